import Foundation
import Testing
import CrossRes

/// Config files in UTF-16 or UTF-32 (with or without a byte order mark) and UTF-8 with one are
/// read as their text: duplicate keys and error positions are those of the UTF-8 file. Bytes
/// that are not text are an error naming the file, the byte offset, line and column.
@Suite struct ConfigFileEncodingTests {
    enum Encoding: CaseIterable { case utf8, utf16LE, utf16BE, utf32LE, utf32BE }

    func bytes(_ text: String, _ encoding: Encoding, bom: Bool) -> [UInt8] {
        let scalars = bom ? "\u{FEFF}" + text : text
        switch encoding {
        case .utf8: return Array(scalars.utf8)
        case .utf16LE: return scalars.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case .utf16BE: return scalars.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case .utf32LE: return scalars.unicodeScalars.flatMap { s in (0..<4).map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
        case .utf32BE: return scalars.unicodeScalars.flatMap { s in (0..<4).reversed().map { UInt8((s.value >> (8 * $0)) & 0xFF) } }
        }
    }

    func read(_ bytes: [UInt8], at path: String) -> String {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do { _ = try ConfigurationLayer(contentsOf: path) } catch { return "\(error)" }
        return ""
    }

    @Test func utf16AndUtf32FilesReadAsTheirText() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/c.json"
        // 'Ģ' is U+0122: in UTF-16LE the bytes 22 01, a quote to a byte scan.
        let duplicate = #"{"data": "Ģ", "steps": 2, "steps": 3}"#
        let syntax = "{\n  \"data\": \"é\",\n  \"lr\" 0.1\n}"
        let valid = #"{"data": "synthetic:identities=4", "output": "Ģé", "steps": 2}"#
        for encoding in Encoding.allCases {
            for bom in [false, true] {
                let name = "\(encoding)\(bom ? " with BOM" : "")"
                #expect(read(bytes(duplicate, encoding, bom: bom), at: path)
                        == "invalid configuration: config file \(path): 'steps' is given twice (again at line 1, column 27); give each setting once", "\(name)")
                #expect(read(bytes(syntax, encoding, bom: bom), at: path).contains("config file \(path): not valid JSON at line 3, column 8"), "\(name)")
                _ = FileManager.default.createFile(atPath: path, contents: Data(bytes(valid, encoding, bom: bom)))
                let layer = try ConfigurationLayer(contentsOf: path)
                #expect(layer.values["output"] as? String == "Ģé" && layer.values["steps"] as? Int == 2, "\(name)")
            }
        }
    }

    @Test func bytesThatAreNotTextAreLocated() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/c.json"
        let prefix = "config file \(path): "
        #expect(read(Array("{\n  \"data\": \"sy".utf8) + [0xFF] + Array("\"}".utf8), at: path)
                == "invalid configuration: " + prefix + "not valid UTF-8 text at byte offset 15 (line 2, column 14): the byte 0xFF there does not begin a valid UTF-8 character; save the file as UTF-8")
        // A lead byte without its continuation, after a multi-byte character.
        #expect(read(Array("{\"a\": \"é".utf8) + [0xE2, 0x28] + Array("\"}".utf8), at: path)
                .contains(prefix + "not valid UTF-8 text at byte offset 9 (line 1, column 9): the byte 0xE2 there"))
        // UTF-16 with an unpaired surrogate, and cut inside a code unit.
        let text = bytes(#"{"a": "x"}"#, .utf16LE, bom: true)
        #expect(read(Array(text[..<16]) + [0x00, 0xD8] + Array(text[16...]), at: path)
                .contains(prefix + "not valid UTF-16LE text at byte offset 16 (line 1, column 8): the code units there do not encode a character"))
        #expect(read(text + [0x0A], at: path).contains(prefix + "not valid UTF-16LE text at byte offset 22 (line 1, column 11): the file ends inside a 2-byte code unit"))
        #expect(read(bytes(#"{"a": 1}"#, .utf32BE, bom: false) + [0, 0x11, 0, 0], at: path).contains(prefix + "not valid UTF-32BE text at byte offset 32"))
        // UTF-16 under a UTF-8 byte order mark, and a NUL in UTF-8 text: JSON holds no NUL, and
        // JSON readers would guess another encoding from it (the first was accepted as garbage).
        let nul = "a NUL character (text of another encoding under a byte order mark?)"
        #expect(read([0xEF, 0xBB, 0xBF] + bytes(#"{"sizes": "8"}"#, .utf16LE, bom: false), at: path)
                .contains(prefix + "not valid JSON text at byte offset 1 (line 1, column 2): " + nul), "\(read([0xEF, 0xBB, 0xBF] + bytes(#"{"sizes": "8"}"#, .utf16LE, bom: false), at: path))")
        #expect(read(Array("{\n\"a\": \"".utf8) + [0] + Array("\"}".utf8), at: path).contains(prefix + "not valid JSON text at byte offset 8 (line 2, column 7): " + nul))
    }
}
