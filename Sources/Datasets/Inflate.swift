/// A pure-Swift DEFLATE decoder (RFC 1951) with the gzip container (RFC 1952), so `.gz`
/// data sets need no zlib.
///
/// Huffman codes are decoded through a lookup table indexed by the next `maxLength` input
/// bits (codes are stored bit-reversed, LSB first). Output is bounded by `limit`, so a
/// decompression bomb fails with an error instead of exhausting memory.
public enum Inflate {
    /// The decompressed contents of gzip data (all members, concatenated); checks each
    /// member's CRC-32 and length.
    public static func gunzip(_ data: [UInt8], name: String, limit: Int = 1 << 31) throws -> [UInt8] {
        try data.withUnsafeBufferPointer { input in
            var output = OutputBuffer(limit: limit, name: name)
            defer { output.free() }
            var position = 0
            repeat {
                let start = output.count
                position = try skipGzipHeader(input, at: position, name: name)
                var reader = BitReader(data: input, position: position, name: name)
                try inflate(&reader, into: &output)
                position = reader.alignedPosition
                guard input.count - position >= 8 else { throw DatasetError(name, "gzip: truncated trailer") }
                let crc = readLE32(input, position), length = readLE32(input, position + 4)
                position += 8
                let actual = output.withBytes(from: start) { CRC32.checksum($0) }
                guard crc == actual else {
                    throw DatasetError(name, "gzip: CRC-32 mismatch (stored \(hex(crc)), computed \(hex(actual)))")
                }
                guard length == UInt32(truncatingIfNeeded: output.count - start) else {
                    throw DatasetError(name, "gzip: length mismatch (stored \(length), decoded \(output.count - start))")
                }
                // Trailing zero padding after the last member is tolerated.
            } while position < input.count && input[position] == 0x1F
            return output.bytes()
        }
    }

    /// The decompressed contents of a raw DEFLATE stream.
    public static func inflate(_ data: [UInt8], name: String, limit: Int = 1 << 31) throws -> [UInt8] {
        try data.withUnsafeBufferPointer { input in
            var output = OutputBuffer(limit: limit, name: name)
            defer { output.free() }
            var reader = BitReader(data: input, position: 0, name: name)
            try inflate(&reader, into: &output)
            return output.bytes()
        }
    }

    /// Whether bytes start with the gzip magic `1f 8b`.
    public static func isGzip(_ data: [UInt8]) -> Bool { data.count >= 2 && data[0] == 0x1F && data[1] == 0x8B }

    private static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    private static func readLE32(_ d: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(d[i]) | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2]) << 16 | UInt32(d[i + 3]) << 24
    }

    private static func skipGzipHeader(_ d: UnsafeBufferPointer<UInt8>, at start: Int, name: String) throws -> Int {
        guard d.count - start >= 10 else { throw DatasetError(name, "gzip: truncated header") }
        guard d[start] == 0x1F, d[start + 1] == 0x8B else { throw DatasetError(name, "not gzip data (no 1f 8b magic)") }
        guard d[start + 2] == 8 else { throw DatasetError(name, "gzip: unsupported compression method \(d[start + 2])") }
        let flags = d[start + 3]
        var p = start + 10
        if flags & 0x04 != 0 {
            guard d.count - p >= 2 else { throw DatasetError(name, "gzip: truncated extra field") }
            p += 2 + (Int(d[p]) | Int(d[p + 1]) << 8)
        }
        for bit: UInt8 in [0x08, 0x10] where flags & bit != 0 {
            while p < d.count, d[p] != 0 { p += 1 }
            p += 1
        }
        if flags & 0x02 != 0 { p += 2 }
        guard p < d.count else { throw DatasetError(name, "gzip: truncated header") }
        return p
    }

    // MARK: DEFLATE

    private static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                              4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// Order in which code-length code lengths are stored (RFC 1951 §3.2.7).
    private static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private static let fixedLiterals: HuffmanTable = try! HuffmanTable(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }, name: "fixed")
    private static let fixedDistances: HuffmanTable = try! HuffmanTable(lengths: [Int](repeating: 5, count: 30), name: "fixed")

    private static func inflate(_ reader: inout BitReader, into output: inout OutputBuffer) throws {
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                try reader.storedBlock(into: &output)
            case 1:
                try decodeBlock(&reader, &output, fixedLiterals, fixedDistances)
            case 2:
                let (literals, distances) = try dynamicTables(&reader)
                try decodeBlock(&reader, &output, literals, distances)
            default:
                throw DatasetError(reader.name, "deflate: invalid block type 3")
            }
        }
        guard reader.alignedPosition <= reader.data.count else { throw DatasetError(reader.name, "deflate: unexpected end of data") }
    }

    private static func dynamicTables(_ reader: inout BitReader) throws -> (HuffmanTable, HuffmanTable) {
        let literalCount = try reader.bits(5) + 257, distanceCount = try reader.bits(5) + 1, codeCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw DatasetError(reader.name, "deflate: bad code counts") }
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeCount { codeLengths[codeLengthOrder[i]] = try reader.bits(3) }
        let codeTable = try HuffmanTable(lengths: codeLengths, name: reader.name)
        var lengths: [Int] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeTable.decode(&reader)
            switch symbol {
            case 0..<16:
                lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw DatasetError(reader.name, "deflate: repeat with no previous length") }
                lengths.append(contentsOf: repeatElement(previous, count: 3 + (try reader.bits(2))))
            case 17:
                lengths.append(contentsOf: repeatElement(0, count: 3 + (try reader.bits(3))))
            default:
                lengths.append(contentsOf: repeatElement(0, count: 11 + (try reader.bits(7))))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw DatasetError(reader.name, "deflate: code lengths overrun") }
        guard lengths[256] > 0 else { throw DatasetError(reader.name, "deflate: no end-of-block code") }
        return (try HuffmanTable(lengths: Array(lengths[..<literalCount]), name: reader.name),
                try HuffmanTable(lengths: Array(lengths[literalCount...]), name: reader.name))
    }

    private static func decodeBlock(_ reader: inout BitReader, _ output: inout OutputBuffer,
                                    _ literals: HuffmanTable, _ distances: HuffmanTable) throws {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                try output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < 29 else { throw DatasetError(reader.name, "deflate: invalid length symbol \(symbol)") }
                let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
                let code = try distances.decode(&reader)
                guard code < 30 else { throw DatasetError(reader.name, "deflate: invalid distance symbol \(code)") }
                let distance = distanceBase[code] + (try reader.bits(distanceExtra[code]))
                try output.copy(distance: distance, length: length)
            }
        }
    }

    /// Canonical Huffman code as a direct lookup table: entry = `symbol << 4 | length`.
    private struct HuffmanTable {
        let table: [UInt32]
        let maxLength: Int

        init(lengths: [Int], name: String) throws {
            var counts = [Int](repeating: 0, count: 16)
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            maxLength = max(1, counts.lastIndex { $0 > 0 } ?? 1)
            // Over-subscribed codes are invalid; incomplete ones are allowed (a single code).
            var left = 1
            for l in 1...15 {
                left = left * 2 - counts[l]
                guard left >= 0 else { throw DatasetError(name, "deflate: over-subscribed Huffman code") }
            }
            var next = [Int](repeating: 0, count: 16)
            var code = 0
            for l in 1...15 {
                code = (code + counts[l - 1]) << 1
                next[l] = code
            }
            var table = [UInt32](repeating: 0, count: 1 << maxLength)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                var reversed = 0, c = next[length]
                next[length] += 1
                for _ in 0..<length {
                    reversed = reversed << 1 | c & 1
                    c >>= 1
                }
                var k = reversed
                while k < table.count {
                    table[k] = UInt32(symbol << 4 | length)
                    k += 1 << length
                }
            }
            self.table = table
        }

        @inline(__always)
        func decode(_ reader: inout BitReader) throws -> Int {
            let entry = Int(table[try reader.peek(maxLength)])
            let length = entry & 15
            guard length > 0 else { throw DatasetError(reader.name, "deflate: invalid Huffman code") }
            reader.consume(length)
            return entry >> 4
        }
    }

    /// LSB-first bit reader over the input.
    private struct BitReader {
        let data: UnsafeBufferPointer<UInt8>
        var position: Int
        let name: String
        var buffer: UInt64 = 0
        var count = 0

        init(data: UnsafeBufferPointer<UInt8>, position: Int, name: String) {
            self.data = data
            self.position = position
            self.name = name
        }

        /// The next `n` ≤ 32 bits without consuming them; past the end of input, missing bits
        /// read as zero (``consume(_:)`` then fails if they are used).
        @inline(__always)
        mutating func peek(_ n: Int) throws -> Int {
            while count < n {
                if position < data.count {
                    buffer |= UInt64(data[position]) << UInt64(count)
                    position &+= 1
                } else if position >= data.count + 8 {
                    throw DatasetError(name, "deflate: unexpected end of data")
                } else {
                    position &+= 1
                }
                count &+= 8
            }
            return Int(buffer & ((1 << UInt64(n)) &- 1))
        }

        @inline(__always)
        mutating func consume(_ n: Int) {
            buffer >>= UInt64(n)
            count &-= n
        }

        @inline(__always)
        mutating func bits(_ n: Int) throws -> Int {
            guard n > 0 else { return 0 }
            let v = try peek(n)
            consume(n)
            guard position - count / 8 <= data.count else { throw DatasetError(name, "deflate: unexpected end of data") }
            return v
        }

        /// Byte position after discarding the bits left in the current byte.
        var alignedPosition: Int { position - count / 8 }

        mutating func storedBlock(into output: inout OutputBuffer) throws {
            var p = alignedPosition
            buffer = 0
            count = 0
            guard data.count - p >= 4 else { throw DatasetError(name, "deflate: truncated stored block") }
            let length = Int(data[p]) | Int(data[p + 1]) << 8, complement = Int(data[p + 2]) | Int(data[p + 3]) << 8
            guard length == ~complement & 0xFFFF else { throw DatasetError(name, "deflate: stored block length check failed") }
            p += 4
            guard data.count - p >= length else { throw DatasetError(name, "deflate: truncated stored block") }
            try output.append(UnsafeBufferPointer(rebasing: data[p..<(p + length)]))
            position = p + length
        }
    }

    /// Growable output with a size limit and LZ77 back-references.
    private struct OutputBuffer {
        var storage: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0
        let limit: Int
        let name: String

        init(limit: Int, name: String) {
            self.limit = limit
            self.name = name
            // Never above the limit, so that the first growth past it is caught.
            capacity = max(1, min(1 << 16, limit))
            storage = .allocate(capacity: capacity)
        }

        mutating func reserve(_ extra: Int) throws {
            guard count + extra > capacity else { return }
            guard count + extra <= limit else { throw DatasetError(name, "decompressed data exceeds the \(limit)-byte limit") }
            var newCapacity = capacity
            while newCapacity < count + extra { newCapacity *= 2 }
            newCapacity = min(newCapacity, max(limit, count + extra))
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: storage, count: count)
            storage.deallocate()
            storage = grown
            capacity = newCapacity
        }

        @inline(__always)
        mutating func append(_ byte: UInt8) throws {
            if count == capacity { try reserve(1) }
            storage[count] = byte
            count &+= 1
        }

        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) throws {
            try reserve(bytes.count)
            if let base = bytes.baseAddress { (storage + count).update(from: base, count: bytes.count) }
            count += bytes.count
        }

        @inline(__always)
        mutating func copy(distance: Int, length: Int) throws {
            guard distance <= count else { throw DatasetError(name, "deflate: distance \(distance) reaches before the start of the output") }
            try reserve(length)
            var from = count &- distance
            for _ in 0..<length {
                storage[count] = storage[from]
                count &+= 1
                from &+= 1
            }
        }

        func withBytes<R>(from start: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            body(UnsafeBufferPointer(start: storage + start, count: count - start))
        }

        /// A copy of the bytes.
        func bytes() -> [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

        /// Frees the buffer (on success and on every error path).
        func free() { storage.deallocate() }
    }
}

/// CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320 reflected), as gzip uses.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c: UInt32 = 0xFFFF_FFFF
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
            return c ^ 0xFFFF_FFFF
        }
    }
}
