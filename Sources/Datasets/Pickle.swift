/// A reader for the subset of Python's pickle format (PEP 307, PEP 3154, PEP 574) that
/// insightface's verification `.bin` files use: tuples and lists of byte strings, booleans and
/// small integers, with memo and framing opcodes, from protocols 0–5 and Python 2 or 3.
///
/// Python 3 pickles `bytes` at protocol 2 as `_codecs.encode(str, "latin1")`; that one global
/// call is understood. Any other opcode or global (class instances, numpy arrays, …) fails
/// with an error naming it and its byte offset — nothing is ever executed. Nesting depth, the
/// number of lists and the number of list items copied into the value are bounded by
/// ``ParserLimits`` (a self-containing list or a memo "billion laughs" is an error, not a hang).
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

    /// A stack slot: a value (with its nesting depth), a mark, a global reference, or a list
    /// under construction (a reference, because the memo and the stack share lists).
    private enum Slot {
        case value(Value, depth: Int)
        case mark
        case global(module: String, name: String)
        case list(ListBox)
    }

    private final class ListBox {
        var items: [Slot] = []
    }

    static func load(_ bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws -> Value {
        var stack: [Slot] = []
        var memo: [Int: Slot] = [:]
        var p = 0
        var resolver = Resolver(limits: limits, name: name)
        // Every list made, emptied at the end: breaks the reference cycles a list that
        // contains itself forms, and frees nested lists without deep recursion.
        var lists: [ListBox] = []
        defer { for list in lists { list.items.removeAll() } }
        func fail(_ why: String) -> DatasetError { DatasetError(name, "pickle: \(why)") }
        func newList() throws -> ListBox {
            guard lists.count < limits.maximumPickleLists else { throw fail("more than the limit of \(limits.maximumPickleLists) lists") }
            lists.append(ListBox())
            return lists[lists.count - 1]
        }
        func resolve(_ slot: Slot) throws -> (value: Value, depth: Int) { try resolver.resolve(slot, depth: 0) }
        func pushTuple(_ slots: [Slot]) throws {
            let items = try slots.map(resolve)
            let depth = 1 + (items.map(\.depth).max() ?? 0)
            guard depth <= limits.maximumPickleDepth else { throw fail("nesting deeper than the limit of \(limits.maximumPickleDepth) at byte \(p)") }
            stack.append(.value(.tuple(items.map(\.value)), depth: depth))
        }
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
        func push(_ v: Value) { stack.append(.value(v, depth: 0)) }
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
                return try resolve(stack[0]).value
            case 0x28: stack.append(.mark)                           // MARK
            case 0x5D: stack.append(.list(try newList()))            // EMPTY_LIST
            case 0x29: stack.append(.value(.tuple([]), depth: 1))    // EMPTY_TUPLE
            case 0x6C:                                               // LIST
                let box = try newList()
                box.items = try popToMark()
                stack.append(.list(box))
            case 0x74: try pushTuple(try popToMark())                // TUPLE
            case 0x85, 0x86, 0x87:                                   // TUPLE1/2/3
                let n = Int(op - 0x84)
                guard stack.count >= n else { throw fail("stack underflow at byte \(at)") }
                let items = Array(stack.suffix(n))
                stack.removeLast(n)
                try pushTuple(items)
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
                guard case .value(.string(let global), _) = try pop(), case .value(.string(let module), _) = try pop() else {
                    throw fail("STACK_GLOBAL without two strings at byte \(at)")
                }
                stack.append(.global(module: module, name: global))
            case 0x52:                                               // REDUCE
                let arguments = try pop(), callable = try pop()
                guard case .global(let module, let global) = callable else { throw fail("REDUCE of a non-global at byte \(at)") }
                guard module == "_codecs", global == "encode", case .value(.tuple(let args), _) = arguments,
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

    /// Turns slots into values, counting the list items it copies against the limit and
    /// refusing nesting deeper than the limit (which also ends a list that contains itself).
    private struct Resolver {
        let limits: ParserLimits
        let name: String
        var copied = 0

        mutating func resolve(_ slot: Slot, depth: Int) throws -> (value: Value, depth: Int) {
            func fail(_ why: String) -> DatasetError { DatasetError(name, "pickle: \(why)") }
            switch slot {
            case .value(let v, let d):
                guard depth + d <= limits.maximumPickleDepth else { throw fail("nesting deeper than the limit of \(limits.maximumPickleDepth)") }
                return (v, d)
            case .list(let box):
                guard depth < limits.maximumPickleDepth else {
                    throw fail("nesting deeper than the limit of \(limits.maximumPickleDepth) (or a list that contains itself)")
                }
                copied += box.items.count
                guard copied <= limits.maximumPickleElements else {
                    throw fail("lists hold more than the limit of \(limits.maximumPickleElements) items (counting each reference to a shared list)")
                }
                var items: [Value] = [], deepest = 0
                items.reserveCapacity(box.items.count)
                for item in box.items {
                    let (value, d) = try resolve(item, depth: depth + 1)
                    items.append(value)
                    deepest = max(deepest, d)
                }
                return (.list(items), deepest + 1)
            case .mark: throw fail("unexpected mark in a value")
            case .global(let module, let global): throw fail("unsupported global \(module).\(global) used as a value")
            }
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
