import Foundation
import CrossRes
import TestSupport

/// A two-layer perceptron over flattened images, small enough for debug-build tests.
final class TinyEmbedder: FeatureExtractor {
    let fc1: Linear, fc2: Linear
    init(inputs: Int, embedding: Int = 8, seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        fc1 = Linear(inputs, 16, using: &g)
        fc2 = Linear(16, embedding, using: &g)
    }
    func features(_ x: Tensor) -> Features {
        let hidden = fc1(x.flattened()).tanh()
        return Features(embedding: fc2(hidden), maps: ["hidden": hidden.reshaped(to: [x.shape[0], 16, 1, 1])])
    }
}

/// Random HR images and their 2×-subsampled LR views; batch `s` is fixed by the seed and `s`.
struct RandomBatches: BatchProvider {
    let seed: UInt64
    var batchSize = 6
    var classes = 3
    var batchesPerEpoch: Int { 4 }
    /// Makes the HR view of `poisonStep` NaN, to trip the guard.
    var poisonStep: Int? = nil

    func batch(atStep step: Int) throws -> TrainingBatch {
        var g = RandomGenerator(seed: seed &+ UInt64(step) &* 7919)
        let labels = (0..<batchSize).map { $0 % classes }
        var hr = Tensor.randomNormal([batchSize, 1, 4, 4], using: &g)
        hr = hr + Tensor(shape: [batchSize, 1, 1, 1], scalars: labels.map { Float($0) })
        if step == poisonStep { hr = hr * Float.nan }
        let lr = hr.narrowed(axis: 3, start: 0, length: 2).narrowed(axis: 2, start: 0, length: 2)
            .broadcast(to: [batchSize, 1, 2, 2]).padded2D(top: 0, bottom: 2, left: 0, right: 2, mode: .replicate)
        return TrainingBatch(highResolution: hr, lowResolution: lr, labels: labels, indices: Array(0..<batchSize))
    }
}

/// A fresh distillation task (L2 + ADDA) with every random choice fixed by `seed`.
/// A distillation task of tiny networks: L2 + ADDA (a critic and its optimiser), or L2 + DANN
/// (whose reversal strength follows the progress).
func makeDistillationTask(seed: UInt64, dann: Bool = false, encoderGate: Float? = nil) -> DistillationTask {
    var g = RandomGenerator(seed: seed)
    let teacher = TinyEmbedder(inputs: 16, seed: 1)
    let student = TinyEmbedder(inputs: 16, seed: 2)
    let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
    let adversarial: any TransferLoss = dann ? DANN(embeddingDimension: 8, using: &g) : ADDA(embeddingDimension: 8, using: &g)
    let transfer = WeightedTransferLoss([(5, FeatureL2Transfer()), (1, adversarial)])
    let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer),
                         learningRate: 1e-2)
    let critic = dann ? nil : Adam(parameters: transfer.criticParameters, learningRate: 1e-3, beta1: 0.5, beta2: 0.9)
    return DistillationTask(teacher: teacher, student: student, head: head, transfer: transfer,
                            optimizer: optimizer, criticOptimizer: critic, encoderGate: encoderGate)
}

/// A fresh, uniquely named folder under the system's temporary directory; the caller removes it
/// with ``removeFolder(_:)`` (`defer`), so runs of the suite leave nothing behind.
func temporaryFolder() -> String { try! TemporaryDirectory.make("training").path }

func removeFolder(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

func allValues(_ module: any Module) -> [[Float]] {
    module.namedParameters().map { $0.parameter.value.scalars } + module.namedBuffers().map { $0.buffer.value.scalars }
}

/// An adversarial loss that does not report its critic's accuracy (one a user wrote, say): ADDA's
/// objectives, without ``AdversarialTransferLoss/criticAccuracy(_:)``.
final class SilentCritic: AdversarialTransferLoss {
    let name = "silent"
    let adda: ADDA
    init(_ adda: ADDA) { self.adda = adda }
    func callAsFunction(_ context: TransferContext) -> Tensor { adda(context) }
    func criticLoss(_ context: TransferContext) -> Tensor { adda.criticLoss(context) }
    var criticParameters: [Parameter] { adda.criticParameters }
}

/// Writes `faces` as an image folder at `path`: a sub-folder per identity (`id<label>`), one PNG
/// per image.
func writeImageFolder(_ faces: any FaceDataset, to path: String) throws {
    for i in 0..<faces.count {
        let folder = path + "/id\(faces.label(at: i))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try faces.sample(at: i).image.write(to: URL(fileURLWithPath: folder + "/\(i).png"))
    }
}
