import Foundation
import Testing
import CrossRes

@Suite struct DigitsDataTests {
    @Test func aMissingFileIsNamedWithTheExpectedLayout() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/usps", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: folder + "/usps/zip.train.gz"))
        do {
            _ = try DigitsData.load(folder: folder)
            Issue.record("loading an incomplete folder must fail")
        } catch let error as DigitsDataError {
            #expect(error.kind == .missingFile)
            #expect(error.description.contains(folder + "/mnist_5k/mnist_5k.csv.gz"), "names the first missing file: \(error)")
            #expect(error.description.contains("3 more file(s) missing"), "counts the others (zip.train.gz exists): \(error)")
            #expect(error.description.contains("usps/zip.test.gz"), "lists the layout: \(error)")
        }
    }

    @Test func aCorruptFileIsAnErrorNotACrash() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (path, _) in DigitsData.files {
            let url = URL(fileURLWithPath: folder).appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("not digits\n".utf8).write(to: url)
        }
        #expect(throws: DigitsDataError.self) { try DigitsData.load(folder: folder) }
    }

    @Test func samplingDrawsDistinctRowsReproducibly() {
        let set = syntheticDigits("set", count: 30)
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let a = set.sampled(12, using: &g1), b = set.sampled(12, using: &g2)
        let rows = (0..<12).map { Int(a.images.scalars[$0 * 256]) }
        #expect(a.count == 12 && Set(rows).count == 12, "without replacement")
        #expect(a.images.scalars == b.images.scalars && a.labels == b.labels)
        #expect(a.labels == rows.map { $0 % 10 }, "labels follow their images")
        var g3 = RandomGenerator(seed: 5)
        #expect(set.sampled(40, using: &g3).count == 30, "asking for more than there is keeps all")
    }

    @Test func uspsSizedImagesAreBroughtToTheNetworkSize() throws {
        let small = Image(width: 16, height: 16, channels: 1, value: 255)
        let dataset = InMemoryDataset(samples: [Sample(image: small, label: 3)], identityCount: 10)
        let set = try DigitSet(name: "usps", dataset: dataset, side: 28, interpolation: .bilinear, normalization: DigitsData.normalization)
        #expect(set.images.shape == [1, 1, 28, 28] && set.labels == [3])
        #expect(set.images.scalars.allSatisfy { abs($0 - 1) < 1e-5 }, "255 normalises to 1")
    }

    @Test func aSmallerBoxCentresTheDigitOnABlackFrame() throws {
        let white = Image(width: 16, height: 16, channels: 1, value: 255)
        let dataset = InMemoryDataset(samples: [Sample(image: white, label: 1)], identityCount: 10)
        let set = try DigitSet(name: "usps", dataset: dataset, side: 28, box: 20, interpolation: .bilinear, normalization: DigitsData.normalization)
        let pixels = set.images.scalars
        let inside = (0..<784).filter { (4..<24).contains($0 / 28) && (4..<24).contains($0 % 28) }
        #expect(inside.count == 400 && inside.allSatisfy { abs(pixels[$0] - 1) < 1e-5 }, "the 20×20 box in the middle is the digit")
        #expect(Set(0..<784).subtracting(inside).allSatisfy { pixels[$0] == -1 }, "the 4-pixel border is black (0 → −1)")
    }

    /// A batch larger than the digits a run would draw (a set smaller than the count asked for)
    /// is refused before anything is written; it trapped in the batch sampler after the run
    /// folder had been created.
    @Test func aBatchLargerThanTheLoadedDigitsIsRefused() throws {
        var configuration = DigitsExperiment.Configuration.quick
        configuration.batchSize = 25
        let experiment = try DigitsExperiment(configuration: configuration)
        let data = DigitsData(mnistTrain: syntheticDigits("mnist", count: 30), mnistTest: syntheticDigits("mnist test", count: 10),
                              uspsTrain: syntheticDigits("usps", count: 20), uspsTest: syntheticDigits("usps test", count: 10))
        let error = try #require(throws: TrainingError.self) { try experiment.check(data) }
        #expect("\(error)".contains("batchSize 25 is larger than the 20 training digits"), "\(error)")
        configuration.batchSize = 20
        try DigitsExperiment(configuration: configuration).check(data)
        configuration.methods = [.adda, .adda]
        #expect(throws: TrainingError.self) { try DigitsExperiment(configuration: configuration) }
    }

    /// A file claiming millions of tiny images is refused before they are brought to 28 × 28.
    @Test func aSetOfMoreSamplesThanAnyDigitSetIsRefused() {
        struct Claimed: FaceDataset {
            var count: Int { DigitSet.maximumSamples + 1 }
            var identityCount: Int { 10 }
            func label(at index: Int) -> Int { 0 }
            func sample(at index: Int) throws -> Sample { Sample(image: Image(width: 1, height: 1, channels: 1, value: 0), label: 0) }
        }
        #expect(throws: DigitsDataError.self) {
            try DigitSet(name: "mnist", dataset: Claimed(), side: 28, interpolation: .bilinear, normalization: DigitsData.normalization)
        }
    }
}
