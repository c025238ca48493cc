import Testing
import CrossRes

@Suite struct LoaderBatchesTests {
    /// A data set smaller than one batch is an error at the first step (it trapped when built).
    @Test func tooFewSamplesForOneBatchIsAnError() throws {
        let faces = SyntheticFaces(identities: 2, imagesPerIdentity: 2, size: 8, channels: 1, seed: 5)
        let batches = LoaderBatches(BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 8), seed: 1))
        let error = try #require(throws: TrainingError.self) { try batches.batch(atStep: 0) }
        #expect("\(error)".contains("4 samples make no batch of 8"), "\(error)")
    }

    @Test func sequentialAndRandomAccessGiveTheSameBatches() throws {
        let faces = SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8, channels: 1, seed: 5)
        let options = LoaderOptions(batchSize: 4, flip: true, degradation: try Degradation(parsing: "size=4,up=8"))
        let sequential = LoaderBatches(BatchLoader(dataset: faces, options: options, seed: 9))
        let resumed = LoaderBatches(BatchLoader(dataset: faces, options: options, seed: 9))
        #expect(sequential.batchesPerEpoch == 3)
        let all = try (0..<7).map { try sequential.batch(atStep: $0) }
        // A resumed run jumps in mid-epoch (step 4 = epoch 1, batch 1), then continues.
        for step in 4..<7 {
            let batch = try resumed.batch(atStep: step)
            #expect(batch.highResolution.scalars == all[step].highResolution.scalars)
            #expect(batch.lowResolution.scalars == all[step].lowResolution.scalars)
            #expect(batch.labels == all[step].labels && batch.indices == all[step].indices)
        }
        #expect(all[0].indices != all[3].indices, "epochs are shuffled differently")
        #expect(Set(all[0..<3].flatMap(\.indices)) == Set(0..<12), "an epoch visits every sample once")
    }
}
