import Foundation

/// What Foundation's JSON reader does not tell about a settings file: a key given twice in one
/// object (it keeps the last one silently), and where in the text a syntax error is (it says
/// only "the data is not in the correct format"). A token scan, not a second JSON parser: it
/// runs on text Foundation has parsed (duplicates) or failed to parse (positions).
enum JSONTextScan {
    /// A key repeated within one object: its path from the top (`steps`, `families[2].name`)
    /// and the line and column of its second appearance.
    struct DuplicateKey: Equatable {
        var path: String
        var line: Int
        var column: Int
    }

    /// The first key that appears twice in the same object, at any depth, or `nil`.
    static func firstDuplicateKey(in bytes: [UInt8]) -> DuplicateKey? {
        /// An open object (the keys read so far, the last one) or array (the current index).
        enum Container {
            case object(keys: Set<String>, key: String?, expectingKey: Bool)
            case array(index: Int)
        }
        var stack: [Container] = []
        func path(_ key: String) -> String {
            var text = ""
            for container in stack.dropLast() {
                switch container {
                case .object(_, let key, _): text += (text.isEmpty ? "" : ".") + (key ?? "")
                case .array(let index): text += "[\(index)]"
                }
            }
            return text + (text.isEmpty ? "" : ".") + key
        }
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"): stack.append(.object(keys: [], key: nil, expectingKey: true))
            case UInt8(ascii: "["): stack.append(.array(index: 0))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                switch stack.last {
                case .object(let keys, let key, _)?: stack[stack.count - 1] = .object(keys: keys, key: key, expectingKey: true)
                case .array(let index)?: stack[stack.count - 1] = .array(index: index + 1)
                case nil: break
                }
            case UInt8(ascii: "\""):
                let start = i
                i = closingQuote(in: bytes, after: i)
                guard case .object(var keys, _, true)? = stack.last else { break }
                // The stack's copy released first, so the set is not copied whole on each insert
                // (quadratic in the object's keys); the placeholder is replaced below.
                stack[stack.count - 1] = .array(index: 0)
                let key = string(bytes[start...min(i, bytes.count - 1)])
                if keys.contains(key) {
                    let (line, column) = position(of: start, in: bytes)
                    return DuplicateKey(path: path(key), line: line, column: column)
                }
                keys.insert(key)
                stack[stack.count - 1] = .object(keys: keys, key: key, expectingKey: false)
            default: break
            }
            i += 1
        }
        return nil
    }

    /// The index of the quote that closes the string opened at `start` (escapes skipped), or
    /// the end of `bytes`.
    private static func closingQuote(in bytes: [UInt8], after start: Int) -> Int {
        var i = start + 1
        while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
        return i
    }

    /// The text of a JSON string literal (quotes included), escapes resolved.
    private static func string(_ literal: ArraySlice<UInt8>) -> String {
        let raw = String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
        guard literal.contains(UInt8(ascii: "\\")) else { return raw }
        return (try? JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed)) as? String ?? raw
    }

    /// The 1-based line and column (in characters) of byte `offset` of `bytes`.
    static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let before = bytes[..<min(max(offset, 0), bytes.count)]
        let line = before.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        let lineStart = before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return (line, String(decoding: before[lineStart...], as: UTF8.self).count + 1)
    }

    /// The byte offset and text of the first bare word outside strings that is not `true`,
    /// `false` or `null` (`tru`, an unquoted name), which Foundation reports as an unexpected end.
    static func firstBadWord(in bytes: [UInt8]) -> (offset: Int, word: String)? {
        func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_") }
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\"") {
                i = closingQuote(in: bytes, after: i)
            } else if isLetter(bytes[i]) && (i == 0 || !"0123456789.+-".utf8.contains(bytes[i - 1])) {
                let start = i
                while i < bytes.count && isLetter(bytes[i]) { i += 1 }
                let word = String(decoding: bytes[start..<i], as: UTF8.self)
                if !["true", "false", "null"].contains(word) { return (start, word) }
                continue
            }
            i += 1
        }
        return nil
    }

    /// Foundation's error for `bytes` as "at line L, column C: what": the byte index is in the
    /// error's user info (`NSJSONSerializationErrorIndex`) or its description ("around
    /// character N"); without one (an unexpected end), a bad word (`tru`) is the place, or
    /// else the end of the text.
    static func describe(_ error: Error, in bytes: [UInt8]) -> String {
        let info = (error as NSError).userInfo
        var detail = info[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
        var offset = info["NSJSONSerializationErrorIndex"] as? Int
        if let range = detail.range(of: #" around (character|line \d+, column) \d+"#, options: .regularExpression) {
            if offset == nil, detail.range(of: "character", options: [], range: range) != nil {
                offset = Int(detail[range].split(separator: " ").last ?? "")
            }
            detail.removeSubrange(range)
        }
        detail = detail.trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        if offset == nil, let bad = firstBadWord(in: bytes) {
            offset = bad.offset
            detail = "'\(bad.word)' is not a JSON value (true, false, null, a number, or text in double quotes)"
        }
        let (line, column) = position(of: offset ?? bytes.count, in: bytes)
        return "at line \(line), column \(column)" + (offset == nil ? " (the end of the text)" : "") + (detail.isEmpty ? "" : ": \(detail)")
    }
}
