import Foundation
import Tensor

/// An insightface verification set (`lfw.bin`, `cfp_fp.bin`, `agedb_30.bin`, …): a pickled
/// tuple `(bins, issame_list)` where `bins` holds `2n` encoded images (JPEG or PNG bytes) and
/// `issame_list` `n` booleans; pair `i` is images `2i` and `2i + 1`
/// (`recognition/arcface_torch/eval/verification.py`, `load_bin`). Images stay encoded until
/// ``image(at:)`` (a 12,000-image set would need 1.8 GB as floats).
public struct VerificationBin: Sendable {
    /// Encoded images, two per pair.
    public let images: [[UInt8]]
    /// Whether each pair shows one identity.
    public let isSame: [Bool]
    /// Where the set came from (its file's path), in error messages.
    public let name: String

    public init(images: [[UInt8]], isSame: [Bool], name: String = "verification set") {
        precondition(images.count == 2 * isSame.count, "VerificationBin: \(images.count) images for \(isSame.count) pairs (need two per pair)")
        self.images = images
        self.isSame = isSame
        self.name = name
    }

    /// Reads a `.bin` file without Python; the pickle's nesting and sizes are checked against
    /// `limits`.
    public init(contentsOf url: URL, limits: ParserLimits = .standard) throws {
        try self.init(bytes: try readFile(url), name: url.path, limits: limits)
    }

    /// Reads the bytes of a `.bin` file; `name` is used in error messages. Bytes that do not
    /// start as a pickle of protocol 2 or later (`0x80`, what insightface writes) and fail to
    /// unpickle are "not a pickled pairs file", with the pickle reader's detail.
    public init(bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws {
        let value: Value
        do { value = try Pickle.load(bytes, name: name, limits: limits) } catch let error as DatasetError where bytes.first != 0x80 {
            throw DatasetError(name, "not a pickled pairs file (an insightface verification .bin): \(error.message)")
        }
        guard case .tuple(let parts) = value, parts.count == 2 else {
            throw DatasetError(name, "expected a pickled (images, issame) tuple")
        }
        guard case .list(let blobs) = parts[0] else { throw DatasetError(name, "the first element is not a list of images") }
        let issame: [Value]
        switch parts[1] {
        case .list(let v), .tuple(let v): issame = v
        default: throw DatasetError(name, "the second element is not a list of booleans")
        }
        let images = try blobs.enumerated().map { i, blob -> [UInt8] in
            guard case .bytes(let b) = blob else { throw DatasetError(name, "image \(i) is not a byte string") }
            return b
        }
        let flags = try issame.enumerated().map { i, v -> Bool in
            switch v {
            case .bool(let b): return b
            case .int(let n) where n == 0 || n == 1: return n == 1
            default: throw DatasetError(name, "issame[\(i)] is not a boolean")
            }
        }
        guard images.count == 2 * flags.count else {
            throw DatasetError(name, "\(images.count) images for \(flags.count) pairs (need two per pair)")
        }
        self.init(images: images, isSame: flags, name: name)
    }

    private typealias Value = Pickle.Value

    /// Number of pairs.
    public var pairCount: Int { isSame.count }

    /// Decoded image `index` (`0..<2·pairCount`).
    public func image(at index: Int) throws -> Image {
        try Image(decoding: images[index], name: "\(name): image \(index)")
    }

    /// The pairs `(2i, 2i + 1)` in `folds` consecutive folds, as insightface evaluates them
    /// (scikit-learn's `KFold` without shuffling: the first `n mod folds` folds hold one pair more).
    public func pairList(folds: Int = 10) -> PairList {
        precondition(folds >= 1, "VerificationBin.pairList: needs at least one fold, got \(folds)")
        let n = isSame.count, small = n / folds, large = small + 1, inLarge = (n % folds) * large
        return PairList(pairs: isSame.enumerated().map { i, same in
            let fold = i < inLarge ? i / large : n % folds + (i - inLarge) / small
            return VerificationPair(first: 2 * i, second: 2 * i + 1, isSame: same, fold: fold)
        }, foldCount: folds)
    }

    /// The pairs of `pairs` taken from `dataset`, images encoded as `format`.
    public init(dataset: any FaceDataset, pairs: PairList, format: ImageFormat = .jpeg, quality: Int = 95) throws {
        var images: [[UInt8]] = []
        images.reserveCapacity(2 * pairs.pairs.count)
        for pair in pairs.pairs {
            images.append(try dataset.sample(at: pair.first).image.encoded(as: format, quality: quality))
            images.append(try dataset.sample(at: pair.second).image.encoded(as: format, quality: quality))
        }
        self.init(images: images, isSame: pairs.pairs.map(\.isSame))
    }

    /// The file's bytes: a protocol-4 pickle that Python's `pickle.load` reads.
    public func encoded() -> [UInt8] { Pickle.dumpBytesAndBools(images, isSame) }

    /// Writes the pickle (protocol 4) atomically; Python's `pickle.load` reads it.
    public func write(to url: URL) throws {
        try writeFileAtomically(encoded(), to: url)
    }
}
