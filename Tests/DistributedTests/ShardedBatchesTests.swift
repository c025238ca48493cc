import Testing
import Tensor
import Datasets
import Training
import Distributed

/// A provider whose batch of step `s` has rows `[s·10 + i]`.
private struct CountingBatches: BatchProvider {
    let size: Int
    var batchesPerEpoch: Int { 5 }
    func batch(atStep step: Int) throws -> TrainingBatch {
        let rows = (0..<size).map { step * 10 + $0 }
        let values = Tensor(shape: [size, 1, 1, 1], scalars: rows.map(Float.init))
        return TrainingBatch(highResolution: values, lowResolution: values * 2, labels: rows, indices: rows)
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
}
