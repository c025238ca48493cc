import Foundation
import Testing
import CrossRes

/// ``TeacherFeatureCache``: the cached rows are the teacher's, and a cache larger than its
/// memory limit is refused after one batch instead of being killed after the whole pass.
struct TeacherFeatureCacheTests {
    /// Image `i` of a fixed set of 1×4×4 images.
    static func images(_ range: Range<Int>) -> Tensor {
        var generator = RandomGenerator(seed: 11)
        let all = Tensor.randomNormal([40, 1, 4, 4], using: &generator)
        return all.narrowed(axis: 0, start: range.lowerBound, length: range.count)
    }

    /// Rows written batch by batch into preallocated tensors (a last batch of 2 rows) equal the
    /// teacher's features of the whole set.
    @Test func theCacheHoldsTheTeachersFeaturesOfEveryRow() throws {
        let teacher = TinyEmbedder(inputs: 16, seed: 3)
        let cache = try TeacherFeatureCache(teacher: teacher, count: 10, batchSize: 4, keepingMaps: ["hidden"]) { Self.images($0) }
        #expect(cache.embeddings.shape == [10, 8])
        #expect(cache.maps["hidden"]?.shape == [10, 16, 1, 1])
        let expected = withoutGradients { teacher.features(Self.images(0..<10)) }
        let got = cache.features(Array(0..<10))
        let embeddingError = zip(got.embedding.scalars, expected.embedding.scalars).map { abs($0 - $1) }.max() ?? .infinity
        let mapError = zip(got.maps["hidden"]!.scalars, expected.maps["hidden"]!.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(embeddingError <= 1e-5 && mapError <= 1e-5, "embedding \(embeddingError), map \(mapError)")
        #expect(cache.features([7, 2]).embedding.scalars == Array(got.embedding.scalars[56..<64] + got.embedding.scalars[16..<24]))
    }

    /// 1000 rows of an 8-value embedding and a 16×1×1 map take 96 kB: above a 50 kB limit the
    /// pass stops after its first batch, stating the size, its parts and the limit.
    @Test func aCacheAboveItsMemoryLimitIsRefusedAfterTheFirstBatch() throws {
        let teacher = TinyEmbedder(inputs: 16, seed: 3)
        var batches = 0
        let error = try #require(throws: TrainingError.self) {
            try TeacherFeatureCache(teacher: teacher, count: 1000, batchSize: 4, keepingMaps: ["hidden"], memoryLimit: .bytes(50_000)) { range in
                batches += 1
                return Self.images(0..<range.count)
            }
        }
        #expect(batches == 1)
        let message = "\(error)"
        for part in ["1000 images needs 96.0 kB", "1000 rows of embedding 8 + map 'hidden' 16×1×1 floats", "limit of 50.0 kB", "cache-teacher off", "memoryLimit"] {
            #expect(message.contains(part), "\(message) lacks '\(part)'")
        }
        // At the limit it is built.
        let cache = try TeacherFeatureCache(teacher: teacher, count: 40, batchSize: 16, keepingMaps: ["hidden"], memoryLimit: .bytes(40 * 24 * 4)) {
            Self.images($0)
        }
        #expect(cache.embeddings.shape == [40, 8])
    }

    @Test func theDefaultLimitIsPositiveAndSizesDoNotOverflow() throws {
        #expect(TeacherFeatureCache.defaultMemoryLimit > 0)
        // IResNet-50 stage-2 maps (128×28×28) and 512-d embeddings of 494 414 images: about 199 GB.
        #expect(TeacherFeatureCache.bytes(rows: 494_414, rowShapes: [[512], [128, 28, 28]]) == 494_414 * (512 + 128 * 28 * 28) * 4)
        #expect(TeacherFeatureCache.bytes(rows: Int.max / 2, rowShapes: [[512]]) == nil)
        let error = try #require(throws: TrainingError.self) {
            try TeacherFeatureCache(teacher: TinyEmbedder(inputs: 16, seed: 3), count: Int.max / 8, batchSize: 2) { Self.images(0..<$0.count) }
        }
        #expect("\(error)".contains("needs more than"), "\(error)")
    }

    @Test func aMissingMapIsAnError() throws {
        let error = try #require(throws: TrainingError.self) {
            try TeacherFeatureCache(teacher: TinyEmbedder(inputs: 16, seed: 3), count: 4, keepingMaps: ["stage2"]) { Self.images($0) }
        }
        #expect("\(error)".contains("no feature map 'stage2'") && "\(error)".contains("hidden"), "\(error)")
    }

    /// A loader that flips marks the mirrored rows (their HR image is the unflipped loader's,
    /// mirrored), and a distillation step with a cache — features of unmirrored images — refuses
    /// a batch holding one, naming it, before any update; unflipped batches train.
    @Test func aCachedTeacherRefusesMirroredRows() throws {
        let faces = SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 4, channels: 1, seed: 5)
        let degradation = try Degradation(parsing: "size=2,up=4")
        let flipping = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 12, shuffle: false, flip: true, prefetch: 0,
                                                                          degradation: degradation), seed: 3)
        let plain = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 12, shuffle: false, prefetch: 0,
                                                                       degradation: degradation), seed: 3)
        let mirrored = try flipping.batch(epoch: 0, index: 0, rows: 0..<12), unmirrored = try plain.batch(epoch: 0, index: 0, rows: 0..<12)
        #expect(unmirrored.flipped == Array(repeating: false, count: 12))
        let row = try #require(mirrored.flipped.firstIndex(of: true), "seed 3 mirrors some of 12 rows")
        for k in 0..<12 {
            let image = unmirrored.hr.narrowed(axis: 0, start: k, length: 1).scalars  // 4×4, one channel
            let rows = stride(from: 0, to: 16, by: 4).map { image[$0..<($0 + 4)] }
            let expected = mirrored.flipped[k] ? rows.flatMap { $0.reversed() } : rows.flatMap { $0 }
            #expect(mirrored.hr.narrowed(axis: 0, start: k, length: 1).scalars == expected, "row \(k)")
        }
        #expect(TrainingBatch(mirrored).flipped == mirrored.flipped)

        let teacher = TinyEmbedder(inputs: 16, seed: 1), student = NormalisedDropoutEmbedder(seed: 2)
        let cache = try TeacherFeatureCache(teacher: teacher, count: faces.count, batchSize: 4) { range in
            Image.batchTensor(range.map { faces.sample(at: $0).image })
        }
        let optimizer = Adam(parameters: student.parameters(), learningRate: 1e-2)
        let task = DistillationTask(teacher: teacher, student: student, head: nil, transfer: FeatureL2Transfer(),
                                    optimizer: optimizer, teacherCache: cache)
        let state = student.stateDict().mapValues(\.scalars), generator = student.dropout.generator
        let error = try #require(throws: TrainingError.self) { try task.step(TrainingBatch(mirrored), progress: 0) }
        for part in ["row \(row)", "dataset index \(mirrored.indices[row])", "mirrored", "LoaderOptions.flip"] {
            #expect("\(error)".contains(part), "\(error) lacks '\(part)'")
        }
        #expect("\(error)".components(separatedBy: "invalid configuration").count <= 2, "said once: \(error)")
        #expect(student.stateDict().mapValues(\.scalars) == state && student.dropout.generator == generator,
                "no forward pass (BatchNorm statistics, dropout stream) and no update before the refusal")
        _ = try task.step(TrainingBatch(unmirrored), progress: 0)
        #expect(student.stateDict().mapValues(\.scalars) != state)
    }
}

/// A perceptron with BatchNorm and dropout: state a forward pass in training mode moves.
private final class NormalisedDropoutEmbedder: FeatureExtractor {
    let fc1: Linear, norm: BatchNorm1d, dropout: Dropout, fc2: Linear
    init(seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        fc1 = Linear(16, 16, using: &g)
        norm = BatchNorm1d(16)
        dropout = Dropout(probability: 0.5, using: &g)
        fc2 = Linear(16, 8, using: &g)
    }
    func features(_ x: Tensor) -> Features { Features(embedding: fc2(dropout(norm(fc1(x.flattened())).tanh()))) }
}
