import Foundation
import Tensor
import Datasets

/// Labelled digits as one network-ready tensor: `[N, 1, side, side]` normalised images and
/// their classes `0…9`.
public struct DigitSet {
    public let name: String
    public let images: Tensor
    public let labels: [Int]

    public init(name: String, images: Tensor, labels: [Int]) {
        precondition(images.rank == 4 && images.shape[1] == 1 && images.shape[0] == labels.count,
                     "DigitSet \(name): images must be [N, 1, H, W] with N = \(labels.count) labels, got \(images.shape)")
        precondition(labels.allSatisfy { (0..<10).contains($0) }, "DigitSet \(name): labels must be digits 0…9")
        self.name = name
        self.images = images
        self.labels = labels
    }

    /// The samples of `dataset` brought to `side × side` and normalised: each image is resized
    /// to `box × box` (when it differs) and centred on a black `side × side` frame (`box`
    /// defaults to `side`: the digit fills the frame).
    public init(name: String, dataset: any FaceDataset, side: Int, box: Int? = nil, interpolation: Interpolation,
                normalization: Normalization) throws {
        let box = box ?? side
        precondition(side >= 16 && box >= 1 && box <= side, "DigitSet \(name): side \(side) must be ≥ 16 (LeNet) and box \(box) in 1...side")
        // Every sample becomes side × side floats: a header claiming millions of tiny images
        // (which gzip packs into a few KB) must not take the memory of millions of digits.
        guard dataset.count <= Self.maximumSamples else {
            throw DigitsDataError(.unreadable, "\(name) claims \(dataset.count) samples; digit sets hold at most \(Self.maximumSamples) (MNIST has 70,000)")
        }
        let samples = try (0..<dataset.count).map { try dataset.sample(at: $0) }
        guard !samples.isEmpty else { throw DigitsDataError(.empty, "\(name) has no samples") }
        let images = samples.map { sample -> Image in
            let grey = sample.image.channels == 1 ? sample.image : sample.image.grey()
            let digit = grey.width == box && grey.height == box ? grey : grey.resized(width: box, height: box, interpolation: interpolation)
            return box == side ? digit : Self.framed(digit, side: side)
        }
        self.init(name: name, images: Image.batchTensor(images, normalization), labels: samples.map(\.label))
    }

    /// The most samples a digit set accepts (2²⁰; at 28 × 28, 3.3 GB of floats).
    public static let maximumSamples = 1 << 20

    /// `image` centred on a black `side × side` grey frame (offsets rounded down).
    static func framed(_ image: Image, side: Int) -> Image {
        let x0 = (side - image.width) / 2, y0 = (side - image.height) / 2
        return image.withUnsafeBufferPointer { src in
            Image(width: side, height: side, channels: 1) { out in
                out.initialize(repeating: 0)
                for y in 0..<image.height {
                    for x in 0..<image.width { out[(y0 + y) * side + x0 + x] = src[y * image.width + x] }
                }
            }
        }
    }

    public var count: Int { labels.count }
    /// Image side (the network's input size).
    public var side: Int { images.shape[2] }

    /// The rows `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> DigitSet {
        DigitSet(name: name ?? self.name, images: images.indexSelect(axis: 0, indices), labels: indices.map { labels[$0] })
    }

    /// `count` samples drawn uniformly without replacement (the CoGAN/ADDA protocol's "randomly
    /// selected" training images), fixed by `generator`; all of them when `count ≥ self.count`.
    public func sampled(_ count: Int, using generator: inout RandomGenerator) -> DigitSet {
        guard count < self.count else { return self }
        precondition(count > 0, "DigitSet.sampled: count must be positive, got \(count)")
        let chosen = Array(Array(0..<self.count).shuffled(using: &generator).prefix(count))
        return subset(chosen, name: "\(name) (\(count) sampled)")
    }
}

/// A problem with the digit files: missing, unreadable, or without samples.
public struct DigitsDataError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case missingFile, unreadable, empty }
    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// The four digit sets of the MNIST ↔ USPS benchmark (Tzeng et al., "Adversarial
/// Discriminative Domain Adaptation", CVPR 2017, Table 2) from a data folder laid out as
/// `../shared/data`:
///
///     mnist_5k/mnist_5k.csv.gz                    MNIST training digits (5000, 28×28)
///     mnist/t10k-{images-idx3,labels-idx1}-ubyte.gz  MNIST test set (10000)
///     usps/zip.train.gz, usps/zip.test.gz         USPS (7291 train, 2007 test, 16×16)
///
/// All digits are brought to one size (USPS 16×16 up to 28×28) and normalised like
/// corenel/pytorch-adda (`Normalize(0.5, 0.5)` on `[0, 1]`: `(x − 127.5) / 127.5`).
public struct DigitsData {
    public let mnistTrain: DigitSet, mnistTest: DigitSet
    public let uspsTrain: DigitSet, uspsTest: DigitSet

    /// The files read, relative to the data folder, with what each one is.
    public static let files: [(path: String, what: String)] = [
        ("mnist_5k/mnist_5k.csv.gz", "MNIST training digits (CSV)"),
        ("mnist/t10k-images-idx3-ubyte.gz", "MNIST test images (IDX)"),
        ("mnist/t10k-labels-idx1-ubyte.gz", "MNIST test labels (IDX)"),
        ("usps/zip.train.gz", "USPS training digits"),
        ("usps/zip.test.gz", "USPS test digits"),
    ]

    /// `(x − 127.5) / 127.5`: pixels `0…255` to `[−1, 1]`.
    public static let normalization = Normalization(mean: 127.5, divisor: 127.5)

    public init(mnistTrain: DigitSet, mnistTest: DigitSet, uspsTrain: DigitSet, uspsTest: DigitSet) {
        let sides = Set([mnistTrain.side, mnistTest.side, uspsTrain.side, uspsTest.side])
        precondition(sides.count == 1, "DigitsData: all sets must have one image size, got \(sides.sorted())")
        self.mnistTrain = mnistTrain
        self.mnistTest = mnistTest
        self.uspsTrain = uspsTrain
        self.uspsTest = uspsTest
    }

    /// Reads every set from `folder`, USPS digits resized to `uspsBox × uspsBox` (default: the
    /// whole `side × side` frame) with `interpolation`. A missing file is an error naming it and
    /// the folder layout expected, before anything is parsed.
    public static func load(folder: String, side: Int = 28, uspsBox: Int? = nil, interpolation: Interpolation = .bilinear) throws -> DigitsData {
        let root = URL(fileURLWithPath: folder)
        let missing = files.filter { !FileManager.default.fileExists(atPath: root.appendingPathComponent($0.path).path) }
        if let first = missing.first {
            let layout = files.map { "  \($0.path)  (\($0.what))" }.joined(separator: "\n")
            throw DigitsDataError(.missingFile, "digits data: \(first.what) not found at \(root.appendingPathComponent(first.path).path)"
                                  + (missing.count > 1 ? " (and \(missing.count - 1) more file(s) missing)" : "")
                                  + "\nthe data folder (\(root.path)) must hold:\n\(layout)")
        }
        func url(_ index: Int) -> URL { root.appendingPathComponent(files[index].path) }
        func set(_ name: String, box: Int? = nil, _ read: () throws -> any FaceDataset) throws -> DigitSet {
            let dataset: any FaceDataset
            do { dataset = try read() } catch { throw DigitsDataError(.unreadable, "digits data: \(name): \(error)") }
            return try DigitSet(name: name, dataset: dataset, side: side, box: box, interpolation: interpolation, normalization: normalization)
        }
        return DigitsData(mnistTrain: try set("MNIST train") { try Digits.mnistCSV(url(0)) },
                          mnistTest: try set("MNIST test") { try Digits.mnistIDX(images: url(1), labels: url(2)) },
                          uspsTrain: try set("USPS train", box: uspsBox) { try Digits.usps(url(3)) },
                          uspsTest: try set("USPS test", box: uspsBox) { try Digits.usps(url(4)) })
    }
}
