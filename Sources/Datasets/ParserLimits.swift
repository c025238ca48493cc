/// What a file's header may claim before a reader allocates for it.
///
/// Every reader of user files in this module (PGM/PPM, PNG, JPEG, RecordIO, the verification
/// `.bin` pickle, MNIST IDX, gzip) checks the sizes a header announces against these limits
/// *before* allocating, and throws a ``DatasetError`` that names the file and the limit, e.g.
/// `"faces/a.pgm: image size 40000x1 exceeds the limit (32768 per side, 33554432 pixels)"`.
/// Sizes are also checked against the file's own length (a 100-byte file cannot hold a
/// 10,000-pixel raster), so the limits only bound what a *consistent* file may make us hold.
///
/// The defaults accept every public face and digit data set (the largest record of
/// MS1MV3 is below 1 MiB, a `.bin` holds 12,000–14,000 images); raise them for unusual data.
public struct ParserLimits: Sendable, Equatable {
    /// Longest image side a decoder accepts (default 32,768, ``Image/maximumSide``).
    public var maximumImageSide = Image.maximumSide
    /// Most pixels (width × height) a decoder accepts (default 2²⁵, e.g. 8192 × 4096;
    /// ``Image/maximumPixelCount``).
    public var maximumImagePixels = Image.maximumPixelCount
    /// Longest RecordIO record, after joining its parts (default 64 MiB).
    public var maximumRecordBytes = 1 << 26
    /// Deepest nesting of lists and tuples in a pickle (default 32; a verification set needs 2).
    public var maximumPickleDepth = 32
    /// Most lists one pickle may create (default 1,024; a verification set has 2).
    public var maximumPickleLists = 1024
    /// Most list items copied while building a pickle's value (default 2²⁰; a verification set
    /// of 7,000 pairs has 21,000; shared lists count once per reference, so a pickle cannot
    /// expand exponentially through its memo).
    public var maximumPickleElements = 1 << 20
    /// Most items (the first dimension) of an MNIST IDX file (default 2²⁴; MNIST has 70,000).
    public var maximumIDXItems = 1 << 24
    /// Most bytes gzip data may decompress to (default 1 GiB).
    public var maximumDecompressedBytes = 1 << 30

    /// The defaults.
    public static let standard = ParserLimits()

    public init() {}

    /// Throws unless `width × height` is a non-empty image within the limits.
    func checkImage(width: Int, height: Int, name: String) throws {
        guard width >= 1, height >= 1 else { throw DatasetError(name, "empty image size \(width)x\(height)") }
        guard width <= maximumImageSide, height <= maximumImageSide, width * height <= maximumImagePixels else {
            throw DatasetError(name, "image size \(width)x\(height) exceeds the limit (\(maximumImageSide) per side, \(maximumImagePixels) pixels)")
        }
    }
}
