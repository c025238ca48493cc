import Foundation

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
}

extension Image {
    /// Decodes encoded bytes of any supported format, recognised by content (not by name);
    /// `name` is used in error messages.
    public init(decoding bytes: [UInt8], name: String) throws {
        guard let format = ImageFormat(sniffing: bytes) else {
            let start = bytes.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")
            throw DatasetError(name, bytes.isEmpty ? "empty file" : "not a PGM/PPM, PNG or JPEG file (starts with \(start))")
        }
        switch format {
        case .pnm: self = try PNM.decode(bytes, name: name)
        case .png: self = try PNG.decode(bytes, name: name)
        case .jpeg: self = try JPEG.decode(bytes, name: name)
        }
    }

    /// Reads and decodes an image file.
    public init(contentsOf url: URL) throws {
        try self.init(decoding: try readFile(url), name: url.path)
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

/// The bytes of a file, or an error naming it.
func readFile(_ url: URL) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url, options: .mappedIfSafe))
    } catch {
        throw DatasetError(url.path, "cannot read: \(error.localizedDescription)")
    }
}

/// Writes `bytes` to a temporary file beside `url` and renames it into place.
func writeFileAtomically(_ bytes: [UInt8], to url: URL) throws {
    do {
        try Data(bytes).write(to: url, options: .atomic)
    } catch {
        throw DatasetError(url.path, "cannot write: \(error.localizedDescription)")
    }
}
