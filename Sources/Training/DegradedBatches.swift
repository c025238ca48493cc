import Tensor
import Datasets

/// Batches of (HR, degraded LR, label) drawn from a dataset, deterministic per step: epoch
/// `e` visits the samples in a permutation seeded by `(seed, e)`, and sample `i` of epoch `e`
/// is degraded (and flipped) with its own generator seeded by `(seed, e, i)`. The last partial
/// batch of an epoch is dropped. Images are decoded and degraded in parallel.
public struct DegradedBatches: BatchProvider {
    public let dataset: any FaceDataset
    public let degradation: Degradation
    public let batchSize: Int
    public let seed: UInt64
    /// Random horizontal flip, applied identically to both views.
    public let flip: Bool
    public let normalization: Normalization

    public init(dataset: any FaceDataset, degradation: Degradation, batchSize: Int, seed: UInt64,
                flip: Bool = true, normalization: Normalization = .insightface) {
        precondition(batchSize > 0 && batchSize <= dataset.count,
                     "DegradedBatches: batch size \(batchSize) must be in 1...\(dataset.count) (the dataset size)")
        self.dataset = dataset
        self.degradation = degradation
        self.batchSize = batchSize
        self.seed = seed
        self.flip = flip
        self.normalization = normalization
    }

    public var batchesPerEpoch: Int { dataset.count / batchSize }

    /// The visiting order of epoch `epoch`.
    public func permutation(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        var rng = RandomGenerator(seed: seed, stream: 0x5045_524D, UInt64(epoch))
        order.shuffle(using: &rng)
        return order
    }

    public func batch(atStep step: Int) throws -> TrainingBatch {
        let epoch = step / batchesPerEpoch, position = step % batchesPerEpoch
        let indices = Array(permutation(epoch: epoch)[(position * batchSize)..<((position + 1) * batchSize)])
        let (hr, lr) = try views(of: indices, epoch: epoch)
        return TrainingBatch(highResolution: Image.batchTensor(hr, normalization),
                             lowResolution: Image.batchTensor(lr, normalization),
                             labels: indices.map(dataset.label(at:)), indices: indices)
    }

    /// The HR and LR views of `indices` as they appear in epoch `epoch`.
    public func views(of indices: [Int], epoch: Int) throws -> (hr: [Image], lr: [Image]) {
        var results = [Result<(Image, Image), any Error>?](repeating: nil, count: indices.count)
        results.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            parallelFor(indices.count) { range in
                for row in range {
                    base[row] = Result {
                        var rng = RandomGenerator(seed: seed, stream: 0x5341_4D50, UInt64(epoch), UInt64(indices[row]))
                        var image = try dataset.sample(at: indices[row]).image
                        if flip && rng.nextUniform() < 0.5 { image = image.horizontallyFlipped() }
                        return (image, degradation.apply(to: image, using: &rng))
                    }
                }
            }
        }
        let pairs = try results.map { try $0!.get() }
        return (pairs.map(\.0), pairs.map(\.1))
    }
}
