import Foundation
import Testing
import CrossRes

/// A two-layer perceptron with dropout between the layers.
private final class DropoutEmbedder: FeatureExtractor {
    let fc1: Linear, dropout: Dropout, fc2: Linear
    init(seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        fc1 = Linear(16, 16, using: &g)
        dropout = Dropout(probability: 0.5, using: &g)
        fc2 = Linear(16, 8, using: &g)
    }
    func features(_ x: Tensor) -> Features { Features(embedding: fc2(dropout(fc1(x.flattened()).tanh()))) }
}

/// The dropout layers' generators are checkpointed: a restored task draws the masks the
/// uninterrupted one draws.
@Suite struct RandomizedModuleCheckpointTests {
    private static func task() -> (DistillationTask, DropoutEmbedder) {
        var g = RandomGenerator(seed: 4)
        let student = DropoutEmbedder(seed: 2)
        let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
        let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: FeatureL2Transfer()),
                             learningRate: 1e-2)
        return (DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: head, transfer: FeatureL2Transfer(),
                                 optimizer: optimizer), student)
    }

    @Test func aRestoredTaskDrawsTheUninterruptedMasks() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let batches = RandomBatches(seed: 8)
        let (uninterrupted, student) = Self.task()
        for step in 0..<2 { _ = try uninterrupted.step(try batches.batch(atStep: step), progress: 0) }
        let checkpoint = Checkpoint(capturing: uninterrupted, step: 2)
        #expect(checkpoint.metadata["crossres.generators"]?.contains("\"student.dropout\"") == true, "\(checkpoint.metadata)")
        try checkpoint.write(to: folder + "/c.safetensors")
        for step in 2..<4 { _ = try uninterrupted.step(try batches.batch(atStep: step), progress: 0) }

        let (resumed, resumedStudent) = Self.task()
        try Checkpoint(contentsOf: folder + "/c.safetensors").restore(resumed)
        #expect(resumedStudent.dropout.generator == checkpoint.generatorOfStudentDropout)
        for step in 2..<4 { _ = try resumed.step(try batches.batch(atStep: step), progress: 0) }
        #expect(allValues(resumedStudent) == allValues(student), "bit-identical after the resume")
        #expect(resumedStudent.dropout.generator == student.dropout.generator)
    }

    @Test func storedGeneratorsAreCheckedStrictly() throws {
        let (task, student) = Self.task()
        _ = try task.step(try RandomBatches(seed: 8).batch(atStep: 0), progress: 0)
        let good = Checkpoint(capturing: task, step: 1)
        let key = "crossres.generators", stored = try #require(good.metadata[key])
        let cases: [(text: String, message: String)] = [
            (stored.replacingOccurrences(of: "student.dropout", with: "student.drop"), "unexpected generator 'student.drop' (this run's dropout layers: student.dropout)"),
            ("{}", "no generator for 'student.dropout'"),
            ("{\"student.dropout\": [\"0\", \"0\", \"0\", \"0\"]}", "not four hexadecimal words, not all zero"),
            ("{\"student.dropout\": [\"1\", \"2\", \"x\", \"3\"]}", "not four hexadecimal words"),
            ("[1, 2]", "is not a JSON object of state words"),
        ]
        for (text, message) in cases {
            var bad = good
            bad.metadata[key] = text
            let (target, targetStudent) = Self.task()
            let before = allValues(targetStudent), generator = targetStudent.dropout.generator
            let error = try #require(throws: TrainingError.self) { try bad.restore(target) }
            #expect("\(error)".contains(message), "\(error)")
            #expect(allValues(targetStudent) == before && targetStudent.dropout.generator == generator, "left as it was")
        }
        // A checkpoint of an earlier version, without the key: the stream stays as it is.
        var earlier = good
        earlier.metadata.removeValue(forKey: key)
        let (target, targetStudent) = Self.task()
        let generator = targetStudent.dropout.generator
        try earlier.restore(target)
        #expect(targetStudent.dropout.generator == generator && generator != student.dropout.generator)
        #expect(allValues(targetStudent) == allValues(student))
        // A caller's copy of the key (metadata carried over from another checkpoint) never stays
        // in the checkpoint of a task without dropout.
        let plain = Checkpoint(capturing: makeDistillationTask(seed: 1), step: 1, metadata: good.metadata)
        #expect(plain.metadata[key] == nil)
        try plain.restore(makeDistillationTask(seed: 1))
    }
}

private extension Checkpoint {
    /// The student's dropout generator as stored (hexadecimal state words).
    var generatorOfStudentDropout: RandomGenerator? {
        guard let text = metadata["crossres.generators"],
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String]],
              let words = object["student.dropout"] else { return nil }
        return RandomGenerator(state: words.compactMap { UInt64($0, radix: 16) })
    }
}
