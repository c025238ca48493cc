/// A reader for the subset of Python's pickle format (PEP 307, PEP 3154, PEP 574) that
/// insightface's verification `.bin` files use: tuples and lists of byte strings, booleans and
/// small integers, with memo and framing opcodes, from protocols 0–5 and Python 2 or 3.
///
/// Python 3 pickles `bytes` at protocol 2 as `_codecs.encode(str, "latin1")`; that one global
/// call is understood. Any other opcode or global (class instances, numpy arrays, …) fails
/// with an error naming it and its byte offset — nothing is ever executed.
enum Pickle {
    /// A decoded value.
    indirect enum Value: Equatable {
        case none
        case bool(Bool)
        case int(Int)
        case bytes([UInt8])
        case string(String)
        case tuple([Value])
        case list([Value])
    }

    /// A stack slot: a value, a mark, a global reference, or a list under construction
    /// (a reference, because the memo and the stack share lists).
    private enum Slot {
        case value(Value)
        case mark
        case global(module: String, name: String)
        case list(ListBox)
    }

    private final class ListBox {
        var items: [Slot] = []
    }

    static func load(_ bytes: [UInt8], name: String) throws -> Value {
        var stack: [Slot] = []
        var memo: [Int: Slot] = [:]
        var p = 0
        func fail(_ why: String) -> DatasetError { DatasetError(name, "pickle: \(why)") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - p >= n else { throw fail("truncated at byte \(p) (needs \(n) more bytes)") }
            defer { p += n }
            return bytes[p..<(p + n)]
        }
        func uint(_ n: Int) throws -> Int { try take(n).reversed().reduce(0) { $0 << 8 | Int($1) } }
        func lineBytes() throws -> ArraySlice<UInt8> {
            guard let end = bytes[p...].firstIndex(of: 0x0A) else { throw fail("unterminated text argument at byte \(p)") }
            defer { p = end + 1 }
            return bytes[p..<end]
        }
        func line() throws -> String { String(decoding: try lineBytes(), as: UTF8.self) }
        func pop() throws -> Slot {
            guard let top = stack.popLast() else { throw fail("stack underflow at byte \(p)") }
            return top
        }
        func popToMark() throws -> [Slot] {
            guard let mark = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
                throw fail("no mark at byte \(p)")
            }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[(mark + 1)...])
        }
        func push(_ v: Value) { stack.append(.value(v)) }
        func append(_ items: [Slot]) throws {
            guard case .list(let box)? = stack.last else { throw fail("append to a non-list at byte \(p)") }
            box.items.append(contentsOf: items)
        }
        func bytesValue(_ n: Int) throws { push(.bytes(Array(try take(n)))) }
        func unicode(_ n: Int) throws { push(.string(String(decoding: try take(n), as: UTF8.self))) }

        while true {
            let at = p
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1)                               // PROTO
            case 0x95: _ = try take(8)                               // FRAME
            case 0x2E:                                               // STOP
                guard stack.count == 1 else { throw fail("\(stack.count) values on the stack at STOP") }
                return try resolve(stack[0], fail)
            case 0x28: stack.append(.mark)                           // MARK
            case 0x5D: stack.append(.list(ListBox()))                // EMPTY_LIST
            case 0x29: push(.tuple([]))                              // EMPTY_TUPLE
            case 0x6C:                                               // LIST
                let box = ListBox()
                box.items = try popToMark()
                stack.append(.list(box))
            case 0x74: push(.tuple(try popToMark().map { try resolve($0, fail) }))          // TUPLE
            case 0x85, 0x86, 0x87:                                   // TUPLE1/2/3
                let n = Int(op - 0x84)
                guard stack.count >= n else { throw fail("stack underflow at byte \(at)") }
                let items = try stack.suffix(n).map { try resolve($0, fail) }
                stack.removeLast(n)
                push(.tuple(items))
            case 0x61: try append([try pop()])                       // APPEND
            case 0x65: try append(try popToMark())                   // APPENDS
            case 0x70: memo[Int(try line()) ?? -1] = stack.last      // PUT
            case 0x71: memo[try uint(1)] = stack.last                // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                 // MEMOIZE
            case 0x67, 0x68, 0x6A:                                   // GET, BINGET, LONG_BINGET
                let key = op == 0x67 ? Int(try line()) ?? -1 : try uint(op == 0x68 ? 1 : 4)
                guard let slot = memo[key] else { throw fail("memo key \(key) missing at byte \(at)") }
                stack.append(slot)
            case 0x88: push(.bool(true))                             // NEWTRUE
            case 0x89: push(.bool(false))                            // NEWFALSE
            case 0x4E: push(.none)                                   // NONE
            case 0x49:                                               // INT (protocol 0; "01"/"00" are bools)
                let text = try line()
                if text == "01" || text == "00" { push(.bool(text == "01")) } else if let v = Int(text) { push(.int(v)) } else {
                    throw fail("bad INT '\(text)' at byte \(at)")
                }
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))    // BININT
            case 0x4B: push(.int(try uint(1)))                       // BININT1
            case 0x4D: push(.int(try uint(2)))                       // BININT2
            case 0x43, 0x55: try bytesValue(try uint(1))             // SHORT_BINBYTES, SHORT_BINSTRING
            case 0x42, 0x54: try bytesValue(try uint(4))             // BINBYTES, BINSTRING
            case 0x8E, 0x96: try bytesValue(try uint(8))             // BINBYTES8, BYTEARRAY8
            case 0x8C: try unicode(try uint(1))                      // SHORT_BINUNICODE
            case 0x58: try unicode(try uint(4))                      // BINUNICODE
            case 0x8D: try unicode(try uint(8))                      // BINUNICODE8
            case 0x56: push(.string(try rawUnicodeEscape(try lineBytes(), fail)))  // UNICODE (protocol 0)
            case 0x63:                                               // GLOBAL
                let module = try line(), global = try line()
                stack.append(.global(module: module, name: global))
            case 0x93:                                               // STACK_GLOBAL
                guard case .value(.string(let global)) = try pop(), case .value(.string(let module)) = try pop() else {
                    throw fail("STACK_GLOBAL without two strings at byte \(at)")
                }
                stack.append(.global(module: module, name: global))
            case 0x52:                                               // REDUCE
                let arguments = try pop(), callable = try pop()
                guard case .global(let module, let global) = callable else { throw fail("REDUCE of a non-global at byte \(at)") }
                guard module == "_codecs", global == "encode", case .value(.tuple(let args)) = arguments,
                      args.count == 2, case .string(let text) = args[0], case .string(let encoding) = args[1],
                      encoding == "latin1" || encoding == "latin-1" else {
                    throw fail("unsupported global \(module).\(global) at byte \(at) (only byte strings, booleans and lists are read)")
                }
                var out: [UInt8] = []
                for scalar in text.unicodeScalars {
                    guard scalar.value < 256 else { throw fail("non-latin-1 character in encoded bytes at byte \(at)") }
                    out.append(UInt8(scalar.value))
                }
                push(.bytes(out))
            default:
                throw fail("unsupported opcode 0x\(String(op, radix: 16)) at byte \(at) (only byte strings, booleans and lists are read)")
            }
        }
    }

    /// Decodes Python's `raw-unicode-escape` (protocol 0 text): `\uXXXX` and `\UXXXXXXXX`
    /// escapes, every other byte is the character of that code (Latin-1).
    private static func rawUnicodeEscape(_ bytes: ArraySlice<UInt8>, _ fail: (String) -> DatasetError) throws -> String {
        var scalars = String.UnicodeScalarView()
        let input = Array(bytes)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "\\"), i + 1 < input.count, input[i + 1] == UInt8(ascii: "u") || input[i + 1] == UInt8(ascii: "U") {
                let digits = input[i + 1] == UInt8(ascii: "u") ? 4 : 8
                guard i + 2 + digits <= input.count,
                      let code = UInt32(String(decoding: input[(i + 2)..<(i + 2 + digits)], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code) else { throw fail("bad \\u escape in a text string") }
                scalars.append(scalar)
                i += 2 + digits
            } else {
                scalars.append(Unicode.Scalar(input[i]))
                i += 1
            }
        }
        return String(scalars)
    }

    private static func resolve(_ slot: Slot, _ fail: (String) -> DatasetError) throws -> Value {
        switch slot {
        case .value(let v): return v
        case .list(let box): return .list(try box.items.map { try resolve($0, fail) })
        case .mark: throw fail("unexpected mark in a value")
        case .global(let module, let name): throw fail("unsupported global \(module).\(name) used as a value")
        }
    }

    /// A protocol-4 pickle (no framing, no memo) of `(list of bytes, list of bools)`, which
    /// Python's `pickle.load` reads back as insightface writes it.
    static func dumpBytesAndBools(_ blobs: [[UInt8]], _ flags: [Bool]) -> [UInt8] {
        var out: [UInt8] = [0x80, 4, 0x5D]
        for (i, blob) in blobs.enumerated() {
            if i % 1000 == 0 { out.append(0x28) }
            if blob.count < 256 {
                out += [0x43, UInt8(blob.count)]
            } else {
                out.append(0x42)
                RecordIO.appendLE(&out, UInt32(blob.count))
            }
            out += blob
            if i % 1000 == 999 || i == blobs.count - 1 { out.append(0x65) }
        }
        out.append(0x5D)
        for (i, flag) in flags.enumerated() {
            if i % 1000 == 0 { out.append(0x28) }
            out.append(flag ? 0x88 : 0x89)
            if i % 1000 == 999 || i == flags.count - 1 { out.append(0x65) }
        }
        out += [0x86, 0x2E]
        return out
    }
}
