import Tensor
import Datasets

/// A ``BatchLoader`` as the trainer's ``BatchProvider``: step `s` is batch `s mod n` of epoch
/// `s / n` (`n` batches per epoch). Consecutive steps are served from the loader's prefetching
/// epoch iterator; a jump (a resumed run starting mid-epoch) is served by random access until
/// the next epoch starts, with identical batches either way.
public final class LoaderBatches: BatchProvider {
    public let loader: BatchLoader
    private var current: (epoch: Int, next: Int, batches: EpochBatches)?

    public init(_ loader: BatchLoader) {
        self.loader = loader
    }

    public var batchesPerEpoch: Int { loader.batchesPerEpoch }

    /// Throws unless `loader`'s data set fills at least one batch.
    public static func checkHasBatches(_ loader: BatchLoader) throws {
        guard loader.batchesPerEpoch > 0 else {
            throw TrainingError.invalidConfiguration("\(loader.dataset.count) samples make no batch of \(loader.options.batchSize)")
        }
    }

    /// Step `step`'s batch; a data set too small for one batch is an error (at the first step).
    public func batch(atStep step: Int) throws -> TrainingBatch {
        try Self.checkHasBatches(loader)
        let epoch = step / batchesPerEpoch, index = step % batchesPerEpoch
        let batch: Batch
        if let current, current.epoch == epoch, current.next == index, let next = try current.batches.next() {
            batch = next
            self.current = (epoch, index + 1, current.batches)
        } else if index == 0 {
            let batches = loader.epoch(epoch)
            guard let first = try batches.next() else { preconditionFailure("LoaderBatches: empty epoch") }
            batch = first
            current = (epoch, 1, batches)
        } else {
            batch = try loader.batch(epoch: epoch, index: index)
            current = nil
        }
        return TrainingBatch(batch)
    }
}

extension TrainingBatch {
    /// A loader's batch.
    public init(_ batch: Batch) {
        self.init(highResolution: batch.hr, lowResolution: batch.lr, labels: batch.labels, indices: batch.indices, flipped: batch.flipped)
    }
}
