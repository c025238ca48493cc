import Foundation
import Testing
@testable import Datasets
import TestSupport

/// MNIST and USPS from `../shared/data`: counts and label histograms as PROVENANCE.txt and
/// zip.info.txt state (the MNIST test-set histogram is the published one).
struct DigitsTests {
    @Test(.enabled(if: SharedData.url("mnist") != nil, "../shared/data/mnist is absent"))
    func mnistIDX() throws {
        let root = SharedData.url("mnist")!
        let mnist = try Digits.mnistIDX(images: root.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                                        labels: root.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        #expect(mnist.count == 10_000 && mnist.identityCount == 10)
        #expect(mnist.labelHistogram == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        let first = try mnist.sample(at: 0)
        #expect(first.label == 7 && first.image.width == 28 && first.image.height == 28 && first.image.channels == 1)
        #expect(first.image.pixels.max() == 255)
    }

    @Test(.enabled(if: SharedData.url("mnist_5k") != nil, "../shared/data/mnist_5k is absent"))
    func mnistCSV() throws {
        let set = try Digits.mnistCSV(SharedData.url("mnist_5k")!.appendingPathComponent("mnist_5k.csv.gz"))
        #expect(set.count == 5000)
        #expect(set.labelHistogram == [Int](repeating: 500, count: 10))
        #expect(try set.sample(at: 0).image.width == 28)
    }

    @Test(.enabled(if: SharedData.url("usps") != nil, "../shared/data/usps is absent"))
    func usps() throws {
        let root = SharedData.url("usps")!
        let train = try Digits.usps(root.appendingPathComponent("zip.train.gz"))
        let test = try Digits.usps(root.appendingPathComponent("zip.test.gz"))
        #expect(train.count == 7291 && test.count == 2007)
        #expect(train.labelHistogram == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644])
        #expect(test.labelHistogram == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177])
        let image = try train.sample(at: 0).image
        #expect(image.width == 16 && image.pixels.min()! >= 0 && image.pixels.max()! <= 255 && image.pixels.min() == 0)
    }

    @Test func badDigitFilesThrow() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let csv = dir.appendingPathComponent("bad.csv")
        try Array("1,2,3\n".utf8).write(to: csv)
        #expect(throws: DatasetError.self) { try Digits.mnistCSV(csv) }
        let idx = dir.appendingPathComponent("bad.idx")
        try ([0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 0, count: 100)).write(to: idx)
        #expect(throws: DatasetError.self) { try Digits.readIDX(idx, expectedRank: 3) }
        // An empty file, or gzip data of nothing, says so (was "not an IDX file (bad magic)").
        for (name, bytes) in [("empty.idx", [UInt8]()), ("empty.gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])] {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            let error = try #require(throws: DatasetError.self) { try Digits.readIDX(url, expectedRank: 1) }
            #expect(error.description == "\(url.path): empty: 0 bytes of data (after gunzip, if gzip), not even an IDX header", "\(error)")
        }
        let text = dir.appendingPathComponent("bad.txt")
        try Array("3 0.5 x\n".utf8).write(to: text)
        #expect(throws: DatasetError.self) { try Digits.usps(text) }
        // Files of no digits name themselves (digits said "USPS test has no samples").
        let emptyGzip: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        for (name, bytes) in [("zip.test", [UInt8]()), ("zip.test.gz", emptyGzip)] {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            let usps = try #require(throws: DatasetError.self) { try Digits.usps(url) }
            let csv = try #require(throws: DatasetError.self) { try Digits.mnistCSV(url) }
            for error in [usps, csv] { #expect(error.description.hasPrefix(url.path + ": no digits"), "\(error)") }
        }
        let images = dir.appendingPathComponent("none-images.idx"), labels = dir.appendingPathComponent("none-labels.idx")
        try [UInt8]([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]).write(to: images)
        try [UInt8]([0, 0, 8, 1, 0, 0, 0, 0]).write(to: labels)
        let none = try #require(throws: DatasetError.self) { try Digits.mnistIDX(images: images, labels: labels) }
        #expect(none.description.hasPrefix(images.path + ": no digits"), "\(none)")
    }
}
