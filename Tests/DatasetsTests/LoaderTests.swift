import Testing
import Tensor
@testable import Datasets

private func collect(_ loader: BatchLoader, epoch: Int) throws -> [Batch] {
    var batches: [Batch] = []
    let iterator = loader.epoch(epoch)
    while let batch = try iterator.next() { batches.append(batch) }
    return batches
}

@Test func loaderIsDeterministicRegardlessOfPrefetch() throws {
    let faces = SyntheticFaces(identities: 6, imagesPerIdentity: 5, size: 24, seed: 3)
    let degradation = try Degradation(parsing: "size=6..12,blur=0..1,noise=0..4,jpeg=50..90,up=hr")
    let synchronous = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 4, flip: true, prefetch: 0, degradation: degradation), seed: 11)
    let prefetching = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 4, flip: true, prefetch: 3, workers: 3, degradation: degradation), seed: 11)
    let a = try collect(synchronous, epoch: 1), b = try collect(prefetching, epoch: 1)
    #expect(a.count == 7 && b.count == 7)
    for (x, y) in zip(a, b) {
        #expect(x.indices == y.indices && x.labels == y.labels)
        #expect(x.hr.scalars == y.hr.scalars && x.lr.scalars == y.lr.scalars)
    }
    #expect(a[0].hr.shape == [4, 3, 24, 24] && a[0].lr.shape == [4, 3, 24, 24])
    #expect(a.flatMap(\.labels) == a.flatMap(\.indices).map(faces.label(at:)))
    let direct = try synchronous.batch(epoch: 1, index: 2)
    #expect(direct.lr.scalars == a[2].lr.scalars)
    let otherEpoch = try collect(synchronous, epoch: 2)
    #expect(otherEpoch.flatMap(\.indices) != a.flatMap(\.indices))
    let otherSeed = BatchLoader(dataset: faces, options: synchronous.options, seed: 12)
    #expect(try collect(otherSeed, epoch: 1).flatMap(\.indices) != a.flatMap(\.indices))
}

@Test func flipIsSharedByBothViewsAndDropLastWorks() throws {
    let faces = SyntheticFaces(identities: 5, imagesPerIdentity: 2, size: 16, seed: 1)
    let options = LoaderOptions(batchSize: 4, shuffle: false, flip: true, dropLast: false, prefetch: 2,
                                degradation: try Degradation(parsing: "scale=2,interp=area"), normalization: .identity)
    let loader = BatchLoader(dataset: faces, options: options, seed: 5)
    let batches = try collect(loader, epoch: 0)
    #expect(batches.map(\.labels.count) == [4, 4, 2])
    var flipped = 0
    for batch in batches {
        for (k, index) in batch.indices.enumerated() {
            let hr = Image(batch.hr.sliced(axis: 0, k..<(k + 1)), .identity)
            let lr = Image(batch.lr.sliced(axis: 0, k..<(k + 1)), .identity)
            let original = faces.sample(at: index).image
            #expect(hr == original || hr == original.horizontallyFlipped())
            if hr != original { flipped += 1 }
            #expect(Fixtures.maxDifference(lr.pixels, hr.resized(width: 8, height: 8, interpolation: .area).pixels) < 1e-4)
        }
    }
    #expect(flipped > 0 && flipped < 10)
    #expect(BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 4), seed: 0).batchesPerEpoch == 2)
}

private struct Failing: FaceDataset {
    var count: Int { 6 }
    var identityCount: Int { 1 }
    func label(at index: Int) -> Int { 0 }
    func sample(at index: Int) throws -> Sample {
        if index == 4 { throw DatasetError("broken.png", "truncated") }
        return Sample(image: Image(width: 4, height: 4, channels: 1, value: 1), label: 0)
    }
}

@Test func loaderReportsSampleErrorsAndMismatchedSizes() throws {
    let loader = BatchLoader(dataset: Failing(), options: LoaderOptions(batchSize: 2, shuffle: false, prefetch: 2, workers: 2), seed: 0)
    let batches = loader.epoch(0)
    #expect(try batches.next() != nil && batches.count == 3)
    _ = try batches.next()
    #expect(throws: DatasetError("broken.png", "truncated")) { try batches.next() }
    #expect(try batches.next() == nil)
    let faces = SyntheticFaces(identities: 4, imagesPerIdentity: 4, size: 16)
    let random = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 16, degradation: try Degradation(parsing: "size=4..8")), seed: 0)
    #expect(throws: DatasetError.self) { try random.batch(epoch: 0, index: 0) }
    // A batch beyond the epoch (none at all when the data set is smaller than one dropped batch) is an error.
    let tooFew = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 32, dropLast: true), seed: 0)
    #expect(throws: DatasetError("batch loader", "batch index 0 outside 0..<0 (16 samples in batches of 32, the partial last one dropped)")) {
        try tooFew.batch(epoch: 0, index: 0)
    }
    #expect(throws: DatasetError.self) { try tooFew.batch(epoch: 0, index: 0, rows: 0..<1) }
    #expect(throws: DatasetError("batch loader", "batch index -1 outside 0..<1 (16 samples in batches of 16)")) { try random.batch(epoch: 0, index: -1) }
    #expect("\(Image(width: 20, height: 12, channels: 3, value: 0))" == "Image(20x12x3)", "an image prints its size, not its pixels")
}

@Test func loaderResizesAndConvertsHR() throws {
    let faces = SyntheticFaces(identities: 2, imagesPerIdentity: 2, size: 20)
    let options = LoaderOptions(batchSize: 2, prefetch: 0, degradation: try Degradation(parsing: "size=4"), hrSize: ImageSize(12), channels: 1)
    let batch = try BatchLoader(dataset: faces, options: options, seed: 0).batch(epoch: 0, index: 0)
    #expect(batch.hr.shape == [2, 1, 12, 12] && batch.lr.shape == [2, 1, 4, 4])
}
