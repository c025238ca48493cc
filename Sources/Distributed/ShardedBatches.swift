import Tensor
import Datasets
import Training

/// One rank's share of a global batch stream: at every step, rank `r` of `N` takes rows
/// `r·B/N ..< (r+1)·B/N` of the global batch `B` of that step. All ranks build the same
/// global stream (same seed), so the shards are disjoint and together cover exactly what a
/// single process would train on — and since the global batch depends only on the global
/// step, a checkpoint (which stores the step) resumes under any process count that divides
/// `B` with the same schedule.
///
/// Over a ``LoaderBatches`` only the shard's samples are decoded and degraded, in parallel on
/// the calling thread's ``parallelFor`` threads (each sample's randomness is a function of the
/// seed, epoch and sample index, so the rows are those of the global batch; the loader keeps the
/// epoch's order, so it is computed once per epoch, not per step). Any other provider is sliced
/// after building the whole batch.
public struct ShardedBatches: BatchProvider {
    public let global: any BatchProvider
    public let rank: Int
    public let processes: Int

    /// - Throws: ``DistributedError/indivisibleBatch(batch:processes:)`` when `global` is a
    ///   ``LoaderBatches`` whose batch size `processes` does not divide, and
    ///   ``DistributedError/indivisibleLastBatch(samples:batch:processes:)`` when such a loader
    ///   keeps a last smaller batch per epoch (`dropLast` off) that `processes` does not divide
    ///   (other providers are checked at each step).
    public init(_ global: any BatchProvider, rank: Int, processes: Int) throws {
        precondition(processes > 0 && rank >= 0 && rank < processes, "ShardedBatches: rank \(rank) outside 0..<\(processes)")
        if let loader = (global as? LoaderBatches)?.loader {
            let batch = loader.options.batchSize, samples = loader.dataset.count
            if batch % processes != 0 { throw DistributedError.indivisibleBatch(batch: batch, processes: processes) }
            if !loader.options.dropLast && samples % batch != 0 && (samples % batch) % processes != 0 {
                throw DistributedError.indivisibleLastBatch(samples: samples, batch: batch, processes: processes)
            }
        }
        self.global = global
        self.rank = rank
        self.processes = processes
    }

    /// This process's shard of `global` in `group`. Over a ``LoaderBatches`` it first checks
    /// (collectively: every rank must call it) that every rank has the same data — sample count,
    /// identity count and a checksum of the labels (``RankInvariant/data(_:)``) — since each rank
    /// opens the data itself and slices its rows by index.
    public init(_ global: any BatchProvider, group: ProcessGroup) throws {
        if group.size > 1, let loader = (global as? LoaderBatches)?.loader {
            try group.ensureSame(RankInvariant.data(loader.dataset), of: "the training data",
                                 fix: "give every process the same data (the same files at the same path on every machine)")
        }
        try self.init(global, rank: group.rank, processes: group.size)
    }

    public var batchesPerEpoch: Int { global.batchesPerEpoch }

    /// The rows of this rank in a global batch of `count` rows.
    public func rows(ofGlobalBatch count: Int) throws -> Range<Int> {
        guard count % processes == 0 else { throw DistributedError.indivisibleBatch(batch: count, processes: processes) }
        let share = count / processes
        return (rank * share)..<((rank + 1) * share)
    }

    public func batch(atStep step: Int) throws -> TrainingBatch {
        if processes == 1 { return try global.batch(atStep: step) }
        if let loader = (global as? LoaderBatches)?.loader { return try shard(of: loader, step: step) }
        let batch = try global.batch(atStep: step)
        let rows = try self.rows(ofGlobalBatch: batch.count)
        return TrainingBatch(highResolution: batch.highResolution.narrowed(axis: 0, start: rows.lowerBound, length: rows.count),
                             lowResolution: batch.lowResolution.narrowed(axis: 0, start: rows.lowerBound, length: rows.count),
                             labels: Array(batch.labels[rows]), indices: Array(batch.indices[rows]),
                             flipped: batch.flipped.isEmpty ? [] : Array(batch.flipped[rows]))
    }

    /// The shard of step `step` of a loader, decoding only its samples.
    private func shard(of loader: BatchLoader, step: Int) throws -> TrainingBatch {
        try LoaderBatches.checkHasBatches(loader)
        let epoch = step / loader.batchesPerEpoch, index = step % loader.batchesPerEpoch
        return TrainingBatch(try loader.batch(epoch: epoch, index: index, rows: try rows(ofGlobalBatch: loader.size(ofBatch: index))))
    }
}
