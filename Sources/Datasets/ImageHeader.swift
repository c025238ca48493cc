import Foundation

/// A check of an image file from its first bytes, without decoding pixels: ``ImageFolderDataset``
/// runs it on every file when it opens, so a broken file is an error at once rather than when
/// its batch is drawn, hours into a run.
///
/// It reads at most ``prefixLength`` bytes and the file's size, and throws a ``DatasetError``
/// naming the file for an empty file, one that is no PGM/PPM, PNG or JPEG, a header whose size
/// is outside ``ParserLimits`` (or not a valid PNG `IHDR` or JPEG marker sequence), and a
/// binary PGM/PPM too short for its raster. A damaged compressed stream (PNG, JPEG) or a
/// truncated PNG/JPEG is still found only when the image is decoded.
public enum ImageHeader {
    /// Bytes read from each file (one page; a JPEG frame header behind longer EXIF or ICC data,
    /// and a PGM header with longer comments, are left unchecked).
    public static let prefixLength = 4096

    /// Throws unless the file at `url` starts with a readable image header within `limits`.
    public static func check(_ url: URL, limits: ParserLimits = .standard) throws {
        let (bytes, size) = try readFile(url, upTo: prefixLength)
        let name = url.path, whole = bytes.count == size
        switch try ImageFormat(sniffing: bytes, name: name) {
        case .pnm:
            // `nil`: the header runs past the prefix (long comments); the decoder will tell.
            _ = try bytes.withUnsafeBufferPointer { try PNM.header($0, fileSize: size, name: name, limits: limits) }
        case .png:
            // The IHDR chunk comes first: length 13, type, width and height (big-endian).
            guard bytes.count >= 24, bytes[8..<16].elementsEqual([0, 0, 0, 13] + Array("IHDR".utf8)) else {
                throw DatasetError(name, "PNG error: the file does not start with an IHDR chunk (truncated or damaged)")
            }
            try limits.checkImage(width: bigEndian(bytes[16..<20]), height: bigEndian(bytes[20..<24]), name: name)
        case .jpeg:
            try checkJPEG(bytes, whole: whole, name: name, limits: limits)
        }
    }

    /// Walks the JPEG markers of `bytes` to the frame header (SOF) and checks its size.
    private static func checkJPEG(_ bytes: [UInt8], whole: Bool, name: String, limits: ParserLimits) throws {
        var p = 2
        while p + 4 <= bytes.count {
            guard bytes[p] == 0xFF else { throw DatasetError(name, "JPEG error: no marker at byte \(p) (damaged file)") }
            let marker = bytes[p + 1]
            if marker == 0xFF { p += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { p += 2; continue }  // markers without a length
            if marker == 0xDA || marker == 0xD9 { throw DatasetError(name, "JPEG error: no frame header before the image data") }
            let length = Int(bigEndian(bytes[(p + 2)..<(p + 4)]))
            guard length >= 2 else { throw DatasetError(name, "JPEG error: marker 0x\(String(marker, radix: 16)) at byte \(p) has length \(length)") }
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {  // a frame header (SOFn)
                guard p + 9 <= bytes.count else { break }
                try limits.checkImage(width: bigEndian(bytes[(p + 7)..<(p + 9)]), height: bigEndian(bytes[(p + 5)..<(p + 7)]), name: name)
                return
            }
            p += 2 + length
        }
        if whole { throw DatasetError(name, "JPEG error: the file ends before its frame header (truncated)") }
    }

    private static func bigEndian(_ bytes: ArraySlice<UInt8>) -> Int { bytes.reduce(0) { $0 << 8 | Int($1) } }
}
