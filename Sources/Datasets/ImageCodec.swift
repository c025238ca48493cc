import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The encoded image formats the library reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    /// Netpbm PGM (grey) / PPM (RGB).
    case pnm
    case png
    case jpeg

    /// The format a file name's extension implies (`pgm ppm pnm png jpg jpeg`, any case).
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "pgm", "ppm", "pnm": self = .pnm
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// The format the first bytes announce (`P2 P3 P5 P6`, the PNG signature, the JPEG SOI
    /// marker), or `nil`.
    public init?(sniffing bytes: [UInt8]) {
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(bytes[1]) {
            self = .pnm
        } else if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            self = .png
        } else if bytes.starts(with: [0xFF, 0xD8]) {
            self = .jpeg
        } else {
            return nil
        }
    }

    /// The format the first bytes announce, or an error naming `name` (an empty file, or one
    /// that is no supported image, with its first bytes).
    init(sniffing bytes: [UInt8], name: String) throws {
        guard let format = ImageFormat(sniffing: bytes) else {
            let start = bytes.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")
            throw DatasetError(name, bytes.isEmpty ? "empty file" : "not a PGM/PPM, PNG or JPEG file (starts with \(start))")
        }
        self = format
    }
}

extension Image {
    /// Decodes encoded bytes of any supported format, recognised by content (not by name);
    /// `name` is used in error messages; the header's size is checked against `limits`.
    public init(decoding bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws {
        switch try ImageFormat(sniffing: bytes, name: name) {
        case .pnm: self = try PNM.decode(bytes, name: name, limits: limits)
        case .png: self = try PNG.decode(bytes, name: name, limits: limits)
        case .jpeg: self = try JPEG.decode(bytes, name: name, limits: limits)
        }
    }

    /// Reads and decodes an image file.
    public init(contentsOf url: URL, limits: ParserLimits = .standard) throws {
        try self.init(decoding: try readFile(url), name: url.path, limits: limits)
    }

    /// The image encoded as `format` (`quality` 1…100 applies to JPEG).
    public func encoded(as format: ImageFormat, quality: Int = 95) throws -> [UInt8] {
        switch format {
        case .pnm: return PNM.encode(self)
        case .png: return try PNG.encode(self)
        case .jpeg: return try JPEG.encode(self, quality: quality)
        }
    }

    /// Writes the image atomically (temporary file + rename), in `format` or the one the
    /// file extension implies.
    public func write(to url: URL, format: ImageFormat? = nil, quality: Int = 95) throws {
        guard let format = format ?? ImageFormat(pathExtension: url.pathExtension) else {
            throw DatasetError(url.path, "cannot tell the image format from the extension '\(url.pathExtension)' (use pgm, ppm, png, jpg)")
        }
        do {
            try writeFileAtomically(try encoded(as: format, quality: quality), to: url)
        } catch let error as DatasetError {
            throw DatasetError(url.path, error.message)
        }
    }
}

/// The bytes of a file, or an error naming it. Read with POSIX calls straight into the array
/// (Foundation's `Data(contentsOf:)` leaks a buffer on some short files, found by fuzzing).
package func readFile(_ url: URL) throws -> [UInt8] {
    try readFile(url, upTo: .max).bytes
}

/// The first `limit` bytes of a file (all of them if it is shorter) and the file's size. A file
/// that is not a regular file (a pipe such as `<(…)` or `/dev/stdin`, a device) has no size
/// until it ends: it is read to its end or to `limit` bytes and one more, and `size` is the
/// number of bytes read (more than `limit` when the file goes on).
package func readFile(_ url: URL, upTo limit: Int) throws -> (bytes: [UInt8], size: Int) {
    func failure() -> DatasetError { DatasetError(url.path, "cannot read: \(String(cString: strerror(errno)))") }
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw failure() }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw failure() }
    guard info.st_mode & S_IFMT != S_IFDIR else { throw DatasetError(url.path, "cannot read: is a directory") }
    guard info.st_mode & S_IFMT == S_IFREG else {
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 1 << 16)
        let wanted = limit == .max ? limit : limit + 1
        while bytes.count < wanted {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, min($0.count, wanted - bytes.count)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure() }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return (Array(bytes.prefix(limit)), bytes.count)
    }
    var bytes = [UInt8](repeating: 0, count: min(Int(info.st_size), limit))
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { throw failure() }
        guard n > 0 else { throw DatasetError(url.path, "cannot read: the file shrank while it was read") }
        done += n
    }
    return (bytes, Int(info.st_size))
}

/// Writes `bytes` to a temporary file beside `url` and renames it into place.
func writeFileAtomically(_ bytes: [UInt8], to url: URL) throws {
    do {
        try Data(bytes).write(to: url, options: .atomic)
    } catch {
        throw DatasetError(url.path, "cannot write: \(fileErrorReason(error))")
    }
}
