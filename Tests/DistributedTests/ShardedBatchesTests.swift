import Testing
import Tensor
import Datasets
import Training
@testable import Distributed

/// A provider whose batch of step `s` has rows `[s·10 + i]`.
private struct CountingBatches: BatchProvider {
    let size: Int
    var batchesPerEpoch: Int { 5 }
    func batch(atStep step: Int) throws -> TrainingBatch {
        let rows = (0..<size).map { step * 10 + $0 }
        let values = Tensor(shape: [size, 1, 1, 1], scalars: rows.map(Float.init))
        return TrainingBatch(highResolution: values, lowResolution: values * 2, labels: rows, indices: rows,
                             flipped: rows.map { $0 % 3 == 1 })
    }
}

struct ShardedBatchesTests {
    @Test func shardsAreDisjointContiguousAndCoverTheGlobalBatch() throws {
        let global = CountingBatches(size: 6)
        let shards = try (0..<3).map { try ShardedBatches(global, rank: $0, processes: 3) }
        for step in [0, 3, 7] {
            let batches = try shards.map { try $0.batch(atStep: step) }
            #expect(batches.map(\.count) == [2, 2, 2])
            #expect(batches.flatMap(\.labels) == (0..<6).map { step * 10 + $0 })
            #expect(batches.flatMap(\.highResolution.scalars) == (0..<6).map { Float(step * 10 + $0) })
            #expect(batches.flatMap(\.lowResolution.scalars) == (0..<6).map { Float(2 * (step * 10 + $0)) })
        }
        #expect(shards[1].batchesPerEpoch == 5)
        #expect(try shards[2].rows(ofGlobalBatch: 6) == 4..<6)
    }

    /// Each shard says which of its rows are mirrored, over any provider and over a loader's
    /// shards (which prepare only their rows).
    @Test func shardsKeepTheirRowsFlipFlags() throws {
        let counting = try (0..<3).map { try ShardedBatches(CountingBatches(size: 6), rank: $0, processes: 3).batch(atStep: 2) }
        #expect(counting.flatMap(\.flipped) == (0..<6).map { (20 + $0) % 3 == 1 })
        let loader = LoaderBatches(BatchLoader(dataset: SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8),
                                               options: LoaderOptions(batchSize: 12, flip: true, prefetch: 0), seed: 3))
        let global = try loader.batch(atStep: 1)
        let shards = try (0..<2).map { try ShardedBatches(loader, rank: $0, processes: 2).batch(atStep: 1) }
        #expect(shards.flatMap(\.flipped) == global.flipped && global.flipped.contains(true) && global.flipped.contains(false))
        #expect(shards.flatMap(\.indices) == global.indices)
    }

    @Test func aBatchThatDoesNotSplitIsAClearError() throws {
        let shard = try ShardedBatches(CountingBatches(size: 5), rank: 0, processes: 2)
        #expect(throws: DistributedError.indivisibleBatch(batch: 5, processes: 2)) { try shard.batch(atStep: 0) }
        let loader = BatchLoader(dataset: SyntheticFaces(identities: 2, imagesPerIdentity: 4, size: 8),
                                 options: LoaderOptions(batchSize: 5), seed: 1)
        #expect(throws: DistributedError.indivisibleBatch(batch: 5, processes: 2)) { try ShardedBatches(LoaderBatches(loader), rank: 1, processes: 2) }
        #expect("\(DistributedError.indivisibleBatch(batch: 5, processes: 2))".contains("multiple of 2"))
    }

    /// A loader's shard refuses what one process refuses: a data set smaller than a batch (it
    /// divided by zero) and images of different channel counts (they trapped when stacked).
    @Test func loaderShardsRefuseWhatTheLoaderRefuses() throws {
        let tiny = BatchLoader(dataset: SyntheticFaces(identities: 2, imagesPerIdentity: 1, size: 8), options: LoaderOptions(batchSize: 4), seed: 1)
        let few = try #require(throws: TrainingError.self) { try ShardedBatches(LoaderBatches(tiny), rank: 0, processes: 2).batch(atStep: 0) }
        #expect("\(few)".contains("2 samples make no batch of 4"), "\(few)")
        let mixed = InMemoryDataset(samples: (0..<4).map { Sample(image: Image(width: 8, height: 8, channels: $0 == 1 ? 1 : 3, value: 0), label: $0 % 2) })
        let loader = BatchLoader(dataset: mixed, options: LoaderOptions(batchSize: 4, shuffle: false), seed: 1)
        let error = try #require(throws: DatasetError.self) { try ShardedBatches(LoaderBatches(loader), rank: 0, processes: 2).batch(atStep: 0) }
        #expect("\(error)".contains("differs in size or channels"), "\(error)")
    }

    /// Over a loader only the shard's samples are prepared, and they are exactly the rows of
    /// the global batch (same flips and degradations), in every epoch.
    @Test func loaderShardsEqualTheRowsOfTheGlobalBatch() throws {
        let options = LoaderOptions(batchSize: 4, flip: true, prefetch: 0, degradation: try Degradation(parsing: "size=4..6,noise=0..3,up=8"))
        let global = LoaderBatches(BatchLoader(dataset: SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8), options: options, seed: 5))
        let shards = try (0..<2).map { try ShardedBatches(global, rank: $0, processes: 2) }
        for step in [0, 2, 4] {
            let whole = try global.batch(atStep: step)
            let parts = try shards.map { try $0.batch(atStep: step) }
            #expect(parts.flatMap(\.indices) == whole.indices)
            #expect(parts.flatMap(\.labels) == whole.labels)
            #expect(parts.flatMap(\.highResolution.scalars) == whole.highResolution.scalars)
            #expect(parts.flatMap(\.lowResolution.scalars) == whole.lowResolution.scalars)
        }
    }

    /// With `dropLast` off, the last batch of an epoch (`count mod B` rows) must split too: 100
    /// samples in batches of 6 leave 4 rows, which 3 processes cannot share (it threw at step 16
    /// of a running job); refused when the shards are made, naming the remedy.
    @Test func aLastBatchThatDoesNotSplitIsRefusedUpFront() throws {
        let faces = SyntheticFaces(identities: 10, imagesPerIdentity: 10, size: 8)
        let keep = LoaderBatches(BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 6, dropLast: false, prefetch: 0), seed: 1))
        let error = try #require(throws: DistributedError.self) { try ShardedBatches(keep, rank: 0, processes: 3) }
        #expect(error == .indivisibleLastBatch(samples: 100, batch: 6, processes: 3))
        for part in ["last batch of each epoch has 4 rows", "100 samples mod batch 6", "over 3 processes", "dropLast on", "multiple of 3"] {
            #expect("\(error)".contains(part), "\(error) lacks '\(part)'")
        }
        // dropLast on: fine; and a last batch that splits (4 rows over 2) is served at its step.
        let drop = LoaderBatches(BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 6, dropLast: true, prefetch: 0), seed: 1))
        _ = try ShardedBatches(drop, rank: 2, processes: 3)
        let halves = try (0..<2).map { try ShardedBatches(keep, rank: $0, processes: 2) }
        #expect(try halves.map { try $0.batch(atStep: 16).count } == [2, 2])
        #expect(try halves.flatMap { try $0.batch(atStep: 16).indices } == (try keep.batch(atStep: 16)).indices)
    }

    /// A shard computes the epoch's order (all indices, shuffled) once per epoch, not once per
    /// step, and serves the same batches as before.
    @Test func theEpochOrderIsComputedOncePerEpoch() throws {
        let loader = BatchLoader(dataset: SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8),
                                 options: LoaderOptions(batchSize: 4, prefetch: 0), seed: 5)  // 3 batches per epoch
        let shard = try ShardedBatches(LoaderBatches(loader), rank: 1, processes: 2)
        let copy = shard  // a copy uses the same loader
        #expect(loader.orderComputations == 0)
        let first = try shard.batch(atStep: 0), second = try copy.batch(atStep: 1)
        #expect(loader.orderComputations == 1)
        #expect(first.indices == Array(loader.order(epoch: 0)[2..<4]))
        #expect(second.indices == Array(loader.order(epoch: 0)[6..<8]))
        _ = try shard.batch(atStep: 2)
        #expect(loader.orderComputations == 1)
        let nextEpoch = try shard.batch(atStep: 3)
        #expect(loader.orderComputations == 2)
        #expect(nextEpoch.indices == Array(loader.order(epoch: 1)[2..<4]))
        #expect(try shard.batch(atStep: 0).indices == first.indices)  // back to epoch 0: recomputed, the same
        #expect(loader.orderComputations == 3)
    }
}
