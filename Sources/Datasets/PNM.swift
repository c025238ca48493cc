/// Netpbm grey and colour images in pure Swift: PGM (`P2` text, `P5` binary) and PPM (`P3`
/// text, `P6` binary), `maxval` 1…65535 (one byte per sample up to 255, two big-endian bytes
/// above). Samples are scaled to `0...255` by `v · 255 / maxval`.
///
/// Reference: the Netpbm format specifications (netpbm.sourceforge.net/doc/pgm.html, ppm.html).
public enum PNM {
    /// Decodes a PGM/PPM file's bytes; `name` is used in error messages. The header's size is
    /// checked against `limits` before the raster is allocated.
    public static func decode(_ bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws -> Image {
        try bytes.withUnsafeBufferPointer { try decode($0, name: name, limits: limits) }
    }

    /// What a PGM/PPM header announces; ``header(_:fileSize:name:limits:)`` reads it.
    struct Header {
        let width: Int, height: Int, channels: Int, maxval: Int
        let binary: Bool
        /// Where the raster starts (binary: after the one whitespace byte; text: after maxval).
        let rasterStart: Int
    }

    /// The header at the start of `data` (the file's first bytes, or all of them), its size
    /// checked against `limits` and, for a binary raster, against the file's `fileSize`; `nil`
    /// when `data` is shorter than the file and ends inside the header (a long comment, or a
    /// number that may go on past it), so the header cannot be judged from it.
    static func header(_ data: UnsafeBufferPointer<UInt8>, fileSize: Int, name: String, limits: ParserLimits) throws -> Header? {
        var reader = HeaderReader(data: data, name: name)
        let prefix = data.count < fileSize
        /// The next number, or `nil` when a prefix ends before it has ended.
        func number(_ what: String) throws -> Int? {
            do {
                let value = try reader.integer(what)
                return prefix && reader.position == data.count ? nil : value
            } catch let error as DatasetError {
                if prefix && reader.position == data.count { return nil }
                throw error
            }
        }
        guard data.count >= 2, data[0] == UInt8(ascii: "P") else {
            throw DatasetError(name, "not a PGM/PPM file (no 'P' magic)")
        }
        let kind = data[1]
        let channels: Int, binary: Bool
        switch kind {
        case UInt8(ascii: "2"): (channels, binary) = (1, false)
        case UInt8(ascii: "3"): (channels, binary) = (3, false)
        case UInt8(ascii: "5"): (channels, binary) = (1, true)
        case UInt8(ascii: "6"): (channels, binary) = (3, true)
        default:
            throw DatasetError(name, "unsupported Netpbm type 'P\(Character(Unicode.Scalar(kind)))' (only P2, P3, P5, P6 are read)")
        }
        reader.position = 2
        guard let width = try number("width"), let height = try number("height"), let maxval = try number("maxval") else { return nil }
        try limits.checkImage(width: width, height: height, name: name)
        guard maxval >= 1, maxval <= 65_535 else {
            throw DatasetError(name, "maxval \(maxval) outside 1...65535")
        }
        guard binary else { return Header(width: width, height: height, channels: channels, maxval: maxval, binary: false, rasterStart: reader.position) }
        // Exactly one whitespace byte separates the header from the raster.
        guard reader.position < data.count, HeaderReader.isSpace(data[reader.position]) else {
            throw DatasetError(name, "truncated: no raster after the header")
        }
        let start = reader.position + 1
        let bytesPerSample = maxval > 255 ? 2 : 1
        let needed = width * height * channels * bytesPerSample
        guard fileSize - start >= needed else {
            throw DatasetError(name, "truncated: \(width)x\(height)x\(channels) at \(8 * bytesPerSample) bits needs \(needed) raster bytes, file has \(fileSize - start)")
        }
        return Header(width: width, height: height, channels: channels, maxval: maxval, binary: true, rasterStart: start)
    }

    static func decode(_ data: UnsafeBufferPointer<UInt8>, name: String, limits: ParserLimits) throws -> Image {
        guard let head = try Self.header(data, fileSize: data.count, name: name, limits: limits) else {
            throw DatasetError(name, "truncated: the header is incomplete")  // not reached: the data is the whole file
        }
        let (width, height, channels, maxval) = (head.width, head.height, head.channels, head.maxval)
        let samples = width * height * channels
        let scale = 255 / Float(maxval)
        let plane = width * height
        if head.binary {
            let bytesPerSample = maxval > 255 ? 2 : 1
            let raster = data.baseAddress! + head.rasterStart
            var tooLarge = false
            let image = Image(width: width, height: height, channels: channels) { out in
                for i in 0..<samples {
                    let v = bytesPerSample == 1 ? Int(raster[i]) : Int(raster[2 &* i]) << 8 | Int(raster[2 &* i &+ 1])
                    if v > maxval { tooLarge = true }
                    out[(i % channels) &* plane &+ i / channels] = Float(v) * scale
                }
            }
            if tooLarge { throw DatasetError(name, "a sample exceeds maxval \(maxval)") }
            return image
        }
        // Text raster: every sample needs at least one digit and one separator.
        var reader = HeaderReader(data: data, name: name, position: head.rasterStart)
        guard data.count - reader.position >= 2 * samples - 1 else {
            throw DatasetError(name, "truncated: \(samples) text samples cannot fit in the remaining \(data.count - reader.position) bytes")
        }
        var values = [Float](repeating: 0, count: samples)
        for i in 0..<samples {
            let v = try reader.integer("sample \(i)")
            guard v <= maxval else { throw DatasetError(name, "sample \(i) = \(v) exceeds maxval \(maxval)") }
            values[(i % channels) * plane + i / channels] = Float(v) * scale
        }
        return Image(width: width, height: height, channels: channels, pixels: values)
    }

    /// Encodes as binary PGM (`P5`, grey) or PPM (`P6`, RGB), 8 bits per sample — or 16 bits
    /// (`maxval` 65535, `v · 257`) with `sixteenBit`.
    public static func encode(_ image: Image, sixteenBit: Bool = false) -> [UInt8] {
        let header = "P\(image.channels == 1 ? 5 : 6)\n\(image.width) \(image.height)\n\(sixteenBit ? 65_535 : 255)\n"
        var out = Array(header.utf8)
        if !sixteenBit {
            out.append(contentsOf: image.interleavedBytes())
            return out
        }
        let plane = image.width * image.height
        out.reserveCapacity(out.count + 2 * image.count)
        image.withUnsafeBufferPointer { src in
            for i in 0..<plane {
                for c in 0..<image.channels {
                    let v = src[c * plane + i]
                    let word = v.isNaN ? 0 : UInt16((min(max(v, 0), 255) * 257).rounded(.toNearestOrAwayFromZero))
                    out.append(UInt8(word >> 8))
                    out.append(UInt8(word & 0xFF))
                }
            }
        }
        return out
    }

    /// Reads whitespace-separated decimal integers, skipping `#` comments.
    private struct HeaderReader {
        let data: UnsafeBufferPointer<UInt8>
        let name: String
        var position = 0

        static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

        mutating func integer(_ what: String) throws -> Int {
            while position < data.count {
                let c = data[position]
                if Self.isSpace(c) {
                    position += 1
                } else if c == UInt8(ascii: "#") {
                    while position < data.count, data[position] != 0x0A, data[position] != 0x0D { position += 1 }
                } else {
                    break
                }
            }
            guard position < data.count else { throw DatasetError(name, "truncated: expected \(what)") }
            var value = 0, digits = 0
            while position < data.count, data[position] >= 0x30, data[position] <= 0x39 {
                value = value * 10 + Int(data[position] - 0x30)
                digits += 1
                position += 1
                guard digits <= 9 else { throw DatasetError(name, "\(what) has too many digits") }
            }
            guard digits > 0 else {
                throw DatasetError(name, "expected a decimal \(what) at byte \(position), found 0x\(String(data[position], radix: 16))")
            }
            if position < data.count, !Self.isSpace(data[position]), data[position] != UInt8(ascii: "#") {
                throw DatasetError(name, "unexpected byte 0x\(String(data[position], radix: 16)) after \(what) at byte \(position)")
            }
            return value
        }
    }
}
