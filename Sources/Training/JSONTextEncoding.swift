import Foundation

/// The text encoding of a JSON settings file, made UTF-8 before it is read. RFC 8259 asks for
/// UTF-8, but editors also save UTF-16 (Windows Notepad's "Unicode", PowerShell 5's
/// `Out-File`) and some tools UTF-32, with or without a byte order mark: those are transcoded,
/// and a UTF-8 byte order mark is dropped (RFC 8259 lets readers ignore it), so that the
/// duplicate-key scan and the line and column of errors (``JSONTextScan``) see the text as it
/// reads. Bytes that are not text in the file's encoding are an error naming where they are.
enum JSONTextEncoding {
    /// A byte sequence that is not text in the file's encoding.
    struct InvalidText: Error, CustomStringConvertible {
        var encoding: String
        /// Offset of the first bad byte in the file, and the 1-based line and column of the
        /// character it would have been.
        var offset: Int
        var line: Int
        var column: Int
        var problem: String

        var description: String {
            "not valid \(encoding) text at byte offset \(offset) (line \(line), column \(column)): \(problem); save the file as UTF-8"
        }
    }

    /// `bytes` as UTF-8 without a byte order mark, from UTF-8, UTF-16 or UTF-32 (either byte
    /// order), told by the byte order mark or, without one, by where the zero bytes of the
    /// first (ASCII) character are (RFC 4627 §3).
    static func utf8(_ bytes: [UInt8]) throws(InvalidText) -> [UInt8] {
        let text = try transcoded(bytes)
        // JSON text holds no unescaped NUL; one is text of another encoding under this one's byte
        // order mark, which JSON readers would guess again and read as garbage.
        if let nul = text.firstIndex(of: 0) {
            let (line, column) = JSONTextScan.position(of: nul, in: text)
            throw InvalidText(encoding: "JSON", offset: nul, line: line, column: column,
                              problem: "a NUL character (text of another encoding under a byte order mark?); the offset counts the text as UTF-8")
        }
        return text
    }

    /// `bytes` transcoded as ``utf8(_:)`` describes, NUL characters kept.
    private static func transcoded(_ bytes: [UInt8]) throws(InvalidText) -> [UInt8] {
        func starts(with prefix: [UInt8]) -> Bool { bytes.starts(with: prefix) }
        let zero = bytes.prefix(4).map { $0 == 0 }
        if starts(with: [0xEF, 0xBB, 0xBF]) { return try decode(bytes, from: 3, UTF8.self, "UTF-8", bigEndian: false) }
        if starts(with: [0xFF, 0xFE, 0, 0]) { return try decode(bytes, from: 4, UTF32.self, "UTF-32LE", bigEndian: false) }
        if starts(with: [0, 0, 0xFE, 0xFF]) { return try decode(bytes, from: 4, UTF32.self, "UTF-32BE", bigEndian: true) }
        if starts(with: [0xFF, 0xFE]) { return try decode(bytes, from: 2, UTF16.self, "UTF-16LE", bigEndian: false) }
        if starts(with: [0xFE, 0xFF]) { return try decode(bytes, from: 2, UTF16.self, "UTF-16BE", bigEndian: true) }
        if zero == [true, true, true, false] { return try decode(bytes, from: 0, UTF32.self, "UTF-32BE", bigEndian: true) }
        if zero == [false, true, true, true] { return try decode(bytes, from: 0, UTF32.self, "UTF-32LE", bigEndian: false) }
        if zero.count >= 2 && zero[0] && !zero[1] { return try decode(bytes, from: 0, UTF16.self, "UTF-16BE", bigEndian: true) }
        if zero.count >= 2 && !zero[0] && zero[1] { return try decode(bytes, from: 0, UTF16.self, "UTF-16LE", bigEndian: false) }
        return try decode(bytes, from: 0, UTF8.self, "UTF-8", bigEndian: false)
    }

    /// The UTF-8 of `bytes[start...]`, read as code units of `codec` in the given byte order.
    private static func decode<Codec: UnicodeCodec>(_ bytes: [UInt8], from start: Int, _ codec: Codec.Type, _ name: String,
                                                   bigEndian: Bool) throws(InvalidText) -> [UInt8]
        where Codec.CodeUnit: FixedWidthInteger {
        let width = MemoryLayout<Codec.CodeUnit>.size
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count - start)
        func failure(at offset: Int, _ problem: String) -> InvalidText {
            let (line, column) = JSONTextScan.position(of: output.count, in: output)
            return InvalidText(encoding: name, offset: offset, line: line, column: column, problem: problem)
        }
        let end = bytes.count - (bytes.count - start) % width  // (a remainder: the file ends inside a code unit)
        let units = stride(from: start, to: end, by: width).map { i in
            (0..<width).reduce(Codec.CodeUnit.zero) { unit, k in
                unit | Codec.CodeUnit(bytes[i + k]) << ((bigEndian ? width - 1 - k : k) * 8)
            }
        }
        var iterator = units.makeIterator()
        var decoder = Codec()
        var offset = start
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                UTF8.encode(scalar) { output.append($0) }
                offset += (Codec.self == UTF8.self ? UTF8.width(scalar) : Codec.self == UTF16.self ? UTF16.width(scalar) : 1) * width
            case .emptyInput:
                guard end == bytes.count else { throw failure(at: end, "the file ends inside a \(width)-byte code unit") }
                return output
            case .error:
                let what = width == 1 ? String(format: "the byte 0x%02X there does not begin a valid UTF-8 character", bytes[offset])
                                      : "the code units there do not encode a character"
                throw failure(at: offset, what)
            }
        }
    }
}
