import Tensor

/// Paired source/target batches for unsupervised domain adaptation: step `s` gives a labelled
/// source batch (``TrainingBatch/highResolution``, ``TrainingBatch/labels``,
/// ``TrainingBatch/indices``) and an unlabelled target batch of the same size
/// (``TrainingBatch/lowResolution``; its labels are never exposed).
///
/// Each domain cycles through its own epochs: with `n = ⌊N / B⌋` full batches (the remainder
/// of an epoch is dropped), step `s` is batch `s mod n` of epoch `⌊s / n⌋`, an epoch being a
/// permutation drawn from `(seed, domain, epoch)`. The batch of a step therefore depends only on
/// the step (resumable), and the two domains are shuffled independently — like
/// corenel/pytorch-adda's `zip(src_loader, tgt_loader)`, without restarting the longer domain
/// when the shorter one runs out.
public struct DigitsPairedBatches: BatchProvider {
    public let source: DigitSet
    public let target: DigitSet
    public let batchSize: Int
    public let seed: UInt64

    public init(source: DigitSet, target: DigitSet, batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1 && batchSize <= source.count && batchSize <= target.count,
                     "DigitsPairedBatches: batch size \(batchSize) must be in 1...min(\(source.count) source, \(target.count) target samples)")
        precondition(source.side == target.side, "DigitsPairedBatches: source images are \(source.side)², target \(target.side)²")
        self.source = source
        self.target = target
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Steps until the smaller domain has been seen once.
    public var batchesPerEpoch: Int { min(source.count, target.count) / batchSize }

    public func batch(atStep step: Int) -> TrainingBatch {
        let s = sourceRows(atStep: step), t = targetRows(atStep: step)
        return TrainingBatch(highResolution: source.images.indexSelect(axis: 0, s), lowResolution: target.images.indexSelect(axis: 0, t),
                             labels: s.map { source.labels[$0] }, indices: s)
    }

    /// Rows of the source set in the batch of `step`.
    public func sourceRows(atStep step: Int) -> [Int] { Self.rows(count: source.count, batchSize: batchSize, seed: seed, domain: 1, step: step) }

    /// Rows of the target set in the batch of `step`.
    public func targetRows(atStep step: Int) -> [Int] { Self.rows(count: target.count, batchSize: batchSize, seed: seed, domain: 2, step: step) }

    static func rows(count: Int, batchSize: Int, seed: UInt64, domain: UInt64, step: Int) -> [Int] {
        precondition(step >= 0, "DigitsPairedBatches: negative step \(step)")
        let perEpoch = count / batchSize
        let epoch = step / perEpoch, index = step % perEpoch
        var generator = RandomGenerator(seed: seed, stream: 0x4449_4749, domain, UInt64(epoch))
        let order = Array(0..<count).shuffled(using: &generator)
        return Array(order[(index * batchSize)..<((index + 1) * batchSize)])
    }
}
