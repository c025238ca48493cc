import Testing
import Foundation
import CrossRes

/// A task built by a library program with inputs its losses cannot take stops with
/// `TrainingError.invalidConfiguration` at the first step, before any update — not with a trap.
@Suite("Task input checks")
struct TaskInputCheckTests {
    /// A distillation task of tiny networks with `transfer`, a head of `classes` classes.
    private static func task(transfer: (any TransferLoss)?, classes: Int = 3) -> DistillationTask {
        var g = RandomGenerator(seed: 11)
        let student = TinyEmbedder(inputs: 16, seed: 2)
        let head = MarginHead.cosFace(classes: classes, embeddingDimension: 8, scale: 8, using: &g)
        let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer), learningRate: 1e-2)
        return DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: head, transfer: transfer, optimizer: optimizer)
    }

    /// The error `body` throws, which must be `TrainingError.invalidConfiguration`.
    private static func configurationError(_ body: () throws -> Void) -> String? {
        do { try body() } catch TrainingError.invalidConfiguration(let message) { return message } catch {
            Issue.record("expected TrainingError.invalidConfiguration, got \(error)")
        }
        return nil
    }

    @Test(arguments: [
        ("head", "MarginHead: label 2 is out of range 0..<2"),
        ("nst", "nst: the student has no feature map 'stage1' (it has hidden)"),
        ("darkrank", "darkrank-soft: needs a batch of at least 9 samples (more than the list length), got 6"),
        ("l2", "l2: student dimension 8 differs from teacher dimension 4"),
    ])
    func distillationStopsBeforeAnyUpdate(mistake: String, message: String) throws {
        let task: DistillationTask
        switch mistake {
        case "head": task = Self.task(transfer: FeatureL2Transfer(), classes: 2)  // RandomBatches label 3 identities
        case "nst": task = Self.task(transfer: NeuronSelectivityTransfer(map: "stage1"))
        case "darkrank": task = Self.task(transfer: DarkRank(mode: .soft(listLength: 8)))
        default:
            var g = RandomGenerator(seed: 3)
            let student = TinyEmbedder(inputs: 16, embedding: 8, seed: 2), teacher = TinyEmbedder(inputs: 16, embedding: 4, seed: 1)
            let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
            task = DistillationTask(teacher: teacher, student: student, head: head, transfer: FeatureL2Transfer(),
                                    optimizer: SGD(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: nil), learningRate: 0.1))
        }
        let before = allValues(task.student) + allValues(task.head!)
        let error = Self.configurationError { try TrainingLoop(steps: 3).run(task, batches: RandomBatches(seed: 1)) }
        #expect(error?.hasPrefix(message) == true, "\(error ?? "no error")")
        #expect(allValues(task.student) + allValues(task.head!) == before, "no update was applied")
    }

    @Test func classifierStopsOnLabelsBeyondItsHead() throws {
        var g = RandomGenerator(seed: 5)
        let backbone = TinyEmbedder(inputs: 16, seed: 2)
        let head = MarginHead.arcFace(classes: 2, embeddingDimension: 8, using: &g)
        let task = ClassifierTask(backbone: backbone, head: head, optimizer: SGD(parameters: backbone.parameters() + head.parameters(), learningRate: 0.1))
        let error = Self.configurationError { try TrainingLoop(steps: 2).run(task, batches: RandomBatches(seed: 1)) }
        #expect(error == "MarginHead: label 2 is out of range 0..<2")
    }

    /// Data-parallel: the check is a collective. This rank's inputs fit; the other rank's do not
    /// (the fake agreement answers its verdict): this rank stops at the same check, with the
    /// other rank's error, before its losses; a healthy agreement lets the step run.
    @Test func anotherRanksInputsStopThisRankToo() throws {
        let task = Self.task(transfer: FeatureL2Transfer())
        let verdicts = Verdicts()
        let agreement = ProcessAgreement(rank: 0, processCount: 2, mean: { $0 }, firstFailure: { local in
            verdicts.values.append(local)
            return verdicts.failOther ? "MarginHead: label 7 is out of range 0..<3 on rank 1" : local
        }, rootValue: { $0 }, barrier: {})
        let batch = try RandomBatches(seed: 1).batch(atStep: 0)
        let terms = try ProcessAgreement.$current.withValue(agreement) { try task.step(batch, progress: 0) }
        #expect(terms.map(\.name) == ["identity", "l2"] && verdicts.values.count == 3 && verdicts.values.allSatisfy { $0 == nil })

        verdicts.failOther = true
        let before = allValues(task.student)
        let error = Self.configurationError {
            _ = try ProcessAgreement.$current.withValue(agreement) { try task.step(batch, progress: 0) }
        }
        #expect(error == "MarginHead: label 7 is out of range 0..<3 on rank 1")
        #expect(verdicts.values.count == 4 && allValues(task.student) == before)
    }
}

private final class Verdicts: @unchecked Sendable {
    var values: [String?] = []
    var failOther = false
}
