import Foundation
import Tensor
import Datasets

/// Where training or evaluation faces come from, written as one argument:
///
///     faces/                                   a folder of identity sub-folders (faces/<identity>/<image>)
///     faces_webface/train.rec                  an insightface RecordIO set (its .idx beside it, or scanned)
///     synthetic                                the built-in synthetic faces (100 identities × 16, 32×32)
///     synthetic:identities=20,images=8,size=32,seed=7
///
/// Synthetic keys: `identities` (≥ 2), `images` per identity (≥ 1), `size` (≥ 8), `seed`
/// (different seeds draw different identities) and `channels` (1 or 3); identities × images is
/// at most ``maximumSyntheticImages``.
public enum DataSource: Equatable, Sendable, CustomStringConvertible {
    case imageFolder(String)
    case recordIO(String)
    case synthetic(identities: Int, imagesPerIdentity: Int, size: Int, channels: Int, seed: UInt64)

    /// The synthetic keys, in the order ``description`` writes them.
    public static let syntheticKeys = ["identities", "images", "size", "channels", "seed"]

    /// The most images (identities × images per identity) a synthetic spec may ask for, 2²⁴
    /// (3 × MS1MV3's 5.2 M): every image costs at least ``bytesPerImageIndex`` in the loader's
    /// order and the labels, however it is rendered.
    public static let maximumSyntheticImages = 1 << 24
    /// Bytes of bookkeeping each image of any data set costs at least (its place in an epoch's
    /// order and its label, one `Int` each), for the error messages.
    static let bytesPerImageIndex = 2 * MemoryLayout<Int>.size
    /// Synthetic sets whose pixels fit in this many bytes (1 GiB) are rendered once and held in
    /// memory (many epochs revisit them); larger ones render each image when it is read.
    public static let syntheticInMemoryBytes = 1 << 30

    /// Parses the data argument; a folder or file that does not exist is an error naming it.
    public init(parsing text: String) throws {
        let argument = text.trimmingCharacters(in: .whitespaces)
        func bad(_ message: String) -> TrainingError { .invalidConfiguration("data '\(text)': \(message)") }
        if argument == "synthetic" || argument.hasPrefix("synthetic:") {
            var values: [String: UInt64] = ["identities": 100, "images": 16, "size": 32, "channels": 3, "seed": 42]
            let body = argument.dropFirst("synthetic".count).drop { $0 == ":" }
            var seen: Set<String> = []
            for token in body.split(separator: ",", omittingEmptySubsequences: false) where !(body.isEmpty) {
                let pair = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, Self.syntheticKeys.contains(pair[0]) else {
                    throw bad("'\(token)' is not key=value with a key of \(Self.syntheticKeys.joined(separator: ", "))")
                }
                guard seen.insert(pair[0]).inserted else { throw bad("'\(pair[0])' given twice") }
                guard let value = UInt64(pair[1]) else { throw bad("'\(pair[0])' needs a non-negative integer, got '\(pair[1])'") }
                values[pair[0]] = value
            }
            let identities = values["identities"]!, images = values["images"]!, size = values["size"]!, channels = values["channels"]!
            guard identities >= 2 && identities <= 1_000_000 else { throw bad("identities must be in 2...1000000, got \(identities)") }
            guard images >= 1 && images <= 100_000 else { throw bad("images must be in 1...100000, got \(images)") }
            guard size >= 8 && size <= 1024 else { throw bad("size must be in 8...1024, got \(size)") }
            guard channels == 1 || channels == 3 else { throw bad("channels must be 1 or 3, got \(channels)") }
            let count = Int(identities) * Int(images)  // both are bounded above: no overflow
            guard count <= Self.maximumSyntheticImages else {
                throw bad("\(identities) identities × \(images) images = \(count) images, more than the limit of \(Self.maximumSyntheticImages) "
                          + "(DataSource.maximumSyntheticImages; their order and labels alone would need \(ByteSize.describe(count * Self.bytesPerImageIndex))); "
                          + "lower identities or images")
            }
            self = .synthetic(identities: Int(identities), imagesPerIdentity: Int(images), size: Int(size), channels: Int(channels), seed: values["seed"]!)
            return
        }
        guard !argument.isEmpty else { throw bad("empty; give a folder of identity sub-folders, a .rec file, or synthetic[:identities=N,images=M,size=S]") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
            throw bad("no such file or folder (expected a folder of identity sub-folders, a .rec file, or synthetic[:identities=N,images=M,size=S])")
        }
        if isDirectory.boolValue {
            self = .imageFolder(argument)
        } else if (argument as NSString).pathExtension.lowercased() == "rec" {
            self = .recordIO(argument)
        } else {
            throw bad("a file that is not a .rec RecordIO set; give a folder of identity sub-folders, a .rec file, or synthetic[:…]")
        }
    }

    /// The canonical argument text (synthetic keys all written out).
    public var description: String {
        switch self {
        case .imageFolder(let path), .recordIO(let path): path
        case let .synthetic(identities, images, size, channels, seed):
            "synthetic:identities=\(identities),images=\(images),size=\(size),channels=\(channels),seed=\(seed)"
        }
    }

    /// Opens the data set. Synthetic faces are rendered once and held in memory when their
    /// pixels fit in ``syntheticInMemoryBytes``, and rendered at each read otherwise; folders and
    /// RecordIO sets decode each image when it is read.
    public func open() throws -> any FaceDataset {
        switch self {
        case .imageFolder(let path):
            return try ImageFolderDataset(root: URL(fileURLWithPath: path))
        case .recordIO(let path):
            return try RecordIODataset(rec: URL(fileURLWithPath: path))
        case let .synthetic(identities, images, size, channels, seed):
            let faces = SyntheticFaces(identities: identities, imagesPerIdentity: images, size: size, channels: channels, seed: seed)
            let pixelBytes = faces.count * size * size * channels * MemoryLayout<Float>.size
            return pixelBytes <= Self.syntheticInMemoryBytes ? try InMemoryDataset(loading: faces) : faces
        }
    }
}
