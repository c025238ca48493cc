import Foundation

/// An insightface training set in RecordIO (`train.rec` + `train.idx`, e.g. `faces_emore`,
/// `faces_webface_112x112`), read without MXNet.
///
/// insightface's layout (`recognition/arcface_torch/dataset.py`, `MXFaceDataset`): record 0 has
/// a header with `flag > 0` and labels `[a, b]`; the images are records `1..<a`, and records
/// `a..<b` describe the identities (one per identity, labels = its image key range), so
/// `b − a` is the identity count. Without that header every record is an image and the
/// identity count is the largest label + 1, so labels far sparser than the images are refused
/// (``maximumSparseClasses``). An image's label is `labels[0]` if
/// its header has a label array, else the scalar `label`.
public struct RecordIODataset: FaceDataset {
    public let file: RecordIOFile
    /// Record key of each sample.
    public let imageKeys: [Int]
    private let sampleLabels: [Int]
    public let identityCount: Int

    /// Opens `rec` with `idx` (by default `rec` with the extension `.idx`, or a scan of the
    /// records in file order when that file does not exist); reads every image header once to
    /// learn the labels.
    public init(rec: URL, idx: URL? = nil) throws {
        let sibling = rec.deletingPathExtension().appendingPathExtension("idx")
        file = try RecordIOFile(rec: rec, idx: idx ?? (FileManager.default.fileExists(atPath: sibling.path) ? sibling : nil))
        let name = rec.path
        var keys = file.keys
        var declaredIdentities: Int?
        if let first = keys.first, let header = try? RecordIO.unpack(try file.record(key: first), name: name).header,
           header.flag > 0, header.labels.count >= 2 {
            // The range must be whole numbers the file can hold: its records are its images and identities.
            let limit = Float(keys.count + 1)
            guard header.labels[0 ..< 2].allSatisfy({ $0 >= 1 && $0 <= limit && $0 == $0.rounded() }) else {
                throw DatasetError(name, "record \(first) header range [\(header.labels[0]), \(header.labels[1])) is not a valid image/identity layout for \(keys.count) records")
            }
            let a = Int(header.labels[0]), b = Int(header.labels[1])
            guard b >= a else { throw DatasetError(name, "record \(first) header range [\(a), \(b)) is not a valid image/identity layout") }
            keys = Array(1..<a)
            declaredIdentities = b - a
        }
        var labels: [Int] = []
        labels.reserveCapacity(keys.count)
        for key in keys {
            let header = try RecordIO.unpack(try file.record(key: key), name: "\(name) record \(key)").header
            let label = header.classLabel
            guard label >= 0, label == label.rounded(), label < 1e9 else { throw DatasetError(name, "record \(key) has label \(label), not a class index") }
            labels.append(Int(label))
        }
        guard !keys.isEmpty else { throw DatasetError(name, "no image records") }
        let needed = (labels.max() ?? -1) + 1
        if let declared = declaredIdentities, declared < needed {
            throw DatasetError(name, "labels reach \(needed - 1) but header 0 declares \(declared) identities")
        }
        if declaredIdentities == nil { try Self.checkClassIndices(labels, name: name) }
        imageKeys = keys
        sampleLabels = labels
        identityCount = declaredIdentities ?? needed
    }

    /// Most classes a file without header record 0 may make when over half of them have no image.
    public static let maximumSparseClasses = 1_000_000

    /// Refuses the labels of a file without header record 0, whose identity count is its largest
    /// label + 1, when they are not class indices but sparse IDs that would size a margin head or
    /// `pack`'s identity records far beyond the data (labels 0 and 500000000 made 5·10⁸ classes,
    /// which failed to allocate): more than ``maximumSparseClasses`` classes of which over half
    /// have no image. Labels with gaps (a subset of a larger set, a test set keeping its person
    /// IDs below a million) pass; labels are never renumbered, which would change the classes a
    /// run's head learnt.
    static func checkClassIndices(_ labels: [Int], name: String) throws {
        let classes = (labels.max() ?? -1) + 1, distinct = Set(labels).count
        guard classes > maximumSparseClasses && classes > 2 * distinct else { return }
        throw DatasetError(name, "labels are not class indices: \(distinct) distinct labels, the largest \(classes - 1), would make \(classes) classes "
                           + "for \(labels.count) images; without a header record 0 the labels must number the identities 0..<N (renumber them)")
    }

    public var count: Int { imageKeys.count }
    public func label(at index: Int) -> Int { sampleLabels[index] }

    public func sample(at index: Int) throws -> Sample {
        let key = imageKeys[index]
        let name = "\(file.url.path) record \(key)"
        let (_, bytes) = try RecordIO.unpack(try file.record(key: key), name: name)
        return Sample(image: try Image(decoding: bytes, name: name), label: sampleLabels[index])
    }

    /// Writes `dataset` in insightface's layout: header record 0 with `[n + 1, n + 1 + k]`,
    /// image records `1...n` (scalar labels, images encoded as `format`), then one record per
    /// identity with its image key range. Samples are written grouped by label.
    public static func write(_ dataset: any FaceDataset, rec: URL, idx: URL? = nil, format: ImageFormat = .jpeg, quality: Int = 95) throws {
        let writer = try RecordIOWriter(rec: rec, idx: idx ?? rec.deletingPathExtension().appendingPathExtension("idx"))
        let order = (0..<dataset.count).sorted { (dataset.label(at: $0), $0) < (dataset.label(at: $1), $1) }
        let n = order.count, k = dataset.identityCount
        try writer.write(key: 0, payload: RecordIO.pack(RecordIO.Header(labels: [Float(n + 1), Float(n + 1 + k)]), []))
        var ranges = [(start: Int, end: Int)](repeating: (0, 0), count: k)
        for (position, index) in order.enumerated() {
            let key = position + 1
            let sample = try dataset.sample(at: index)
            let bytes = try sample.image.encoded(as: format, quality: quality)
            try writer.write(key: key, payload: RecordIO.pack(RecordIO.Header(label: Float(sample.label), id: UInt64(key)), bytes))
            if ranges[sample.label].end == 0 { ranges[sample.label].start = key }
            ranges[sample.label].end = key + 1
        }
        for (identity, range) in ranges.enumerated() {
            let key = n + 1 + identity
            try writer.write(key: key, payload: RecordIO.pack(RecordIO.Header(labels: [Float(range.start), Float(range.end)], id: UInt64(key)), []))
        }
        try writer.finish()
    }
}
