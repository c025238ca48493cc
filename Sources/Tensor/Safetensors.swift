import Foundation

/// A safetensors file: named tensors plus a string-to-string metadata map — the interchange
/// format of PyTorch / Hugging Face checkpoints.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of JSON header
/// `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …,
/// "__metadata__": {"key": "value"}}`, then the data buffer (offsets are relative to it; the
/// tensors tile it exactly, with no gaps or overlaps).
///
/// Reading accepts F32, F16, BF16, F64, the signed and unsigned integers and BOOL, all
/// converted to `Float` (``dtypes`` records what was stored). Every structural problem is
/// thrown as a ``SafetensorsError`` naming the file — a corrupt file never crashes the
/// process. Writing stores F32, tensors in name order, the header padded to a multiple of 8
/// bytes, through a temporary file that is renamed over the destination (atomic).
///
/// ```swift
/// try Safetensors(tensors: ["fc.weight": w], metadata: ["epoch": "3"]).write(to: url)
/// let checkpoint = try Safetensors(contentsOf: url)
/// let w = checkpoint.tensors["fc.weight"]
/// ```
public struct Safetensors {
    /// Element types of the format.
    public enum DType: String, CaseIterable, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
        case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64, .u64: 8
            case .f32, .i32, .u32: 4
            case .f16, .bf16, .i16, .u16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The `__metadata__` map.
    public var metadata: [String: String]
    /// The element type each tensor had in the file it was read from (`.f32` for new ones).
    public var dtypes: [String: DType]

    /// Header lengths above this are rejected as corrupt (the reference implementation's limit).
    static let maximumHeaderLength = 100_000_000

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors.mapValues { $0.detached() }
        self.metadata = metadata
        self.dtypes = tensors.mapValues { _ in .f32 }
    }

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        try self.init(data: try Self.contents(of: url).data, source: url.path)
    }

    /// The metadata of the file at `url`, from its header alone: the header's JSON is validated
    /// as ``init(contentsOf:)`` validates it, but the tensors are neither read nor checked
    /// against the file's size.
    public static func metadata(contentsOf url: URL) throws -> [String: String] {
        let fail = { (problem: String) in SafetensorsError(file: url.path, problem: problem) }
        let (start, size) = try contents(of: url, upTo: 8)
        let length = try headerLength(start, following: size - 8, fail)
        let (data, _) = try contents(of: url, upTo: 8 + length)
        guard data.count == 8 + length else { throw fail("the file shrank while it was read") }
        return try Header.parse(data.subdata(in: data.startIndex + 8 ..< data.endIndex), fail).metadata
    }

    /// The header length in the first 8 bytes of `prefix`, checked against the limit and the
    /// `following` bytes of the file after those 8.
    private static func headerLength(_ prefix: Data, following: Int, _ fail: (String) -> SafetensorsError) throws -> Int {
        guard prefix.count >= 8 else {
            throw fail("not a safetensors file: file is too short (\(prefix.count) bytes) to hold the 8-byte header length")
        }
        let declared = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard declared <= UInt64(Self.maximumHeaderLength) else {
            throw fail("not a safetensors file: header length \(declared) is implausible (the limit is \(Self.maximumHeaderLength) bytes)")
        }
        guard Int(declared) <= following else {
            throw fail("header length \(declared) exceeds the \(following) bytes that follow it (truncated file?)")
        }
        return Int(declared)
    }

    /// The file's first `limit` bytes (all of them by default) and its size, read with POSIX
    /// calls (Foundation's `Data(contentsOf:)` leaks a buffer on some short files, found by
    /// fuzzing the data-set readers).
    private static func contents(of url: URL, upTo limit: Int = .max) throws -> (data: Data, size: Int) {
        func failure(_ why: String = String(cString: strerror(errno))) -> SafetensorsError {
            SafetensorsError(file: url.path, problem: "cannot read the file (\(why))")
        }
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure() }
        guard info.st_mode & S_IFMT != S_IFDIR else { throw failure("it is a directory") }
        var data = Data(count: Swift.min(Int(info.st_size), limit))
        var done = 0
        while done < data.count {
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw failure() }
            guard n > 0 else { throw failure("the file shrank while it was read") }
            done += n
        }
        return (data, Int(info.st_size))
    }

    /// Decodes an in-memory file; `source` names it in errors.
    public init(data: Data, source: String = "<memory>") throws {
        let fail = { (problem: String) in SafetensorsError(file: source, problem: problem) }
        let headerLength = try Self.headerLength(data, following: data.count - 8, fail)
        let headerBytes = data.subdata(in: data.startIndex + 8 ..< data.startIndex + 8 + headerLength)
        let header = try Header.parse(headerBytes, fail)
        let dataStart = 8 + headerLength, bufferLength = data.count - dataStart

        // The tensors must tile the data buffer exactly.
        var end = 0
        for entry in header.entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if entry.end > bufferLength {
                throw fail("tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] are out of range for the \(bufferLength)-byte data buffer (truncated file?)")
            }
            if entry.begin < end { throw fail("tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] overlap the previous tensor, which ends at \(end)") }
            if entry.begin > end { throw fail("tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] leave a gap after byte \(end)") }
            end = entry.end
        }
        if end != bufferLength { throw fail("the data buffer has \(bufferLength) bytes but the tensors cover \(end)") }

        var tensors: [String: Tensor] = [:], dtypes: [String: DType] = [:]
        data.withUnsafeBytes { raw in
            for entry in header.entries {
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + entry.begin)..<(dataStart + entry.end)])
                tensors[entry.name] = Tensor(shape: entry.shape) { Self.convert(bytes, entry.dtype, into: $0) }
                dtypes[entry.name] = entry.dtype
            }
        }
        self.tensors = tensors
        self.metadata = header.metadata
        self.dtypes = dtypes
    }

    // MARK: Writing

    /// The file's bytes (tensors in name order, each in its ``dtypes`` entry, F32 by default;
    /// integer and boolean types are written from the rounded values).
    public func encoded() -> Data {
        var data = headerData()
        for name in tensors.keys.sorted() { Self.appendLittleEndian(tensors[name]!, as: dtype(of: name), to: &data) }
        return data
    }

    /// The element type `name` is written as.
    private func dtype(of name: String) -> DType { dtypes[name] ?? .f32 }

    /// Writes the file atomically: to a temporary file in the destination's directory, flushed,
    /// then renamed over `url`.
    public func write(to url: URL) throws {
        let fail = { (problem: String) in SafetensorsError(file: url.path, problem: problem) }
        // The format's header reserves this key for the metadata map: no reader could load the file.
        guard tensors["__metadata__"] == nil else { throw fail("a tensor cannot be named '__metadata__' (the header's metadata key)") }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.globallyUniqueString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw fail("cannot create the temporary file \(temporary.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try handle.write(contentsOf: headerData())
                for name in tensors.keys.sorted() {
                    var chunk = Data()
                    Self.appendLittleEndian(tensors[name]!, as: dtype(of: name), to: &chunk)
                    try handle.write(contentsOf: chunk)
                }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, url.path) == 0 else {
                throw fail("cannot move the temporary file into place (\(String(cString: strerror(errno))))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? SafetensorsError { throw error }
            throw fail("cannot write (\(error.localizedDescription))")
        }
    }

    /// The length prefix and JSON header, padded with spaces so the data starts 8-byte aligned.
    private func headerData() -> Data {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in tensors.keys.sorted() {
            let t = tensors[name]!, type = dtype(of: name)
            let shape = t.shape.map(String.init).joined(separator: ",")
            fields.append("\(Self.jsonString(name)):{\"dtype\":\"\(type.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.count * type.size)]}")
            offset += t.count * type.size
        }
        var json = Array("{\(fields.joined(separator: ","))}".utf8)
        while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: json)
        return data
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func appendLittleEndian(_ t: Tensor, as dtype: DType, to data: inout Data) {
        t.withUnsafeBufferPointer { values in
            func append<I: FixedWidthInteger>(_ convert: (Float) -> I) {
                for v in values { withUnsafeBytes(of: convert(v).littleEndian) { data.append(contentsOf: $0) } }
            }
            func append<I: FixedWidthInteger>(integer: I.Type) {
                append { v -> I in
                    // `Float(I.max)` rounds up past `I.max` for 32- and 64-bit types: it is the
                    // value a file's `I.max` reads as, so it is written back as `I.max`.
                    if v == Float(I.max) { return I.max }
                    guard let x = I(exactly: v.rounded()) else { preconditionFailure("Safetensors: \(v) cannot be written as \(dtype.rawValue)") }
                    return x
                }
            }
            switch dtype {
            case .f32:
                #if _endian(little)
                data.append(contentsOf: UnsafeRawBufferPointer(values))
                #else
                append { $0.bitPattern }
                #endif
            case .f64: append { Double($0).bitPattern }
            case .f16: append { Float16($0).bitPattern }
            case .bf16: append { v in  // round to nearest even on the upper 16 bits
                let bits = v.bitPattern
                return v.isNaN ? 0x7FC0 : UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            }
            case .i64: append(integer: Int64.self)
            case .i32: append(integer: Int32.self)
            case .i16: append(integer: Int16.self)
            case .i8: append(integer: Int8.self)
            case .u64: append(integer: UInt64.self)
            case .u32: append(integer: UInt32.self)
            case .u16: append(integer: UInt16.self)
            case .u8: append(integer: UInt8.self)
            case .bool: append { UInt8($0 != 0 ? 1 : 0) }
            }
        }
    }

    // MARK: Reading

    /// Converts little-endian elements of `dtype` to floats.
    static func convert(_ bytes: UnsafeRawBufferPointer, _ dtype: DType, into out: UnsafeMutableBufferPointer<Float>) {
        func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self))
        }
        let n = out.count
        switch dtype {
        case .f32:
            #if _endian(little)
            if n > 0 { memcpy(out.baseAddress!, bytes.baseAddress!, n * 4) }
            #else
            for i in 0..<n { out[i] = Float(bitPattern: load(UInt32.self, i)) }
            #endif
        case .f64: for i in 0..<n { out[i] = Float(Double(bitPattern: load(UInt64.self, i))) }
        case .f16: for i in 0..<n { out[i] = halfToFloat(load(UInt16.self, i)) }
        case .bf16: for i in 0..<n { out[i] = Float(bitPattern: UInt32(load(UInt16.self, i)) << 16) }
        case .i64: for i in 0..<n { out[i] = Float(load(Int64.self, i)) }
        case .i32: for i in 0..<n { out[i] = Float(load(Int32.self, i)) }
        case .i16: for i in 0..<n { out[i] = Float(load(Int16.self, i)) }
        case .i8: for i in 0..<n { out[i] = Float(load(Int8.self, i)) }
        case .u64: for i in 0..<n { out[i] = Float(load(UInt64.self, i)) }
        case .u32: for i in 0..<n { out[i] = Float(load(UInt32.self, i)) }
        case .u16: for i in 0..<n { out[i] = Float(load(UInt16.self, i)) }
        case .u8: for i in 0..<n { out[i] = Float(load(UInt8.self, i)) }
        case .bool: for i in 0..<n { out[i] = load(UInt8.self, i) != 0 ? 1 : 0 }
        }
    }

    /// IEEE 754 binary16 → binary32 (exact): sign, 5-bit exponent biased by 15, 10-bit fraction.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10) & 0x1F, fraction = UInt32(h & 0x3FF)
        switch exponent {
        case 0: return sign * Float(fraction) * 0x1p-24  // zero and subnormals
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default:
            let bits = UInt32(h & 0x8000) << 16 | UInt32(exponent - 15 + 127) << 23 | fraction << 13
            return Float(bitPattern: bits)
        }
    }

    /// The parsed and validated JSON header.
    struct Header {
        struct Entry {
            let name: String, dtype: DType, shape: [Int], begin: Int, end: Int
        }
        var entries: [Entry] = []
        var metadata: [String: String]

        static func parse(_ bytes: Data, _ fail: (String) -> SafetensorsError) throws -> Header {
            guard String(validating: bytes, as: UTF8.self) != nil else { throw fail("not a safetensors file: the header is not valid UTF-8") }
            guard bytes.first == UInt8(ascii: "{") else { throw fail("not a safetensors file: the header is not a JSON object (it must start with '{')") }
            let raw: Raw
            do {
                raw = try JSONDecoder().decode(Raw.self, from: bytes)
            } catch let error as DecodingError {
                throw fail(describe(error))
            } catch {
                throw fail("the header is not valid JSON (\(error))")
            }
            var header = Header(metadata: raw.metadata)
            for (name, info) in raw.entries {
                func problem(_ text: String) -> SafetensorsError { fail("tensor '\(name)': \(text)") }
                guard let dtype = DType(rawValue: info.dtype) else {
                    throw problem("unsupported dtype \"\(info.dtype)\" (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                guard let shape = naturals(info.shape) else {
                    throw problem("shape \(show(info.shape)) must hold non-negative integers")
                }
                guard let offsets = naturals(info.data_offsets), offsets.count == 2, offsets[1] >= offsets[0] else {
                    throw problem("data_offsets \(show(info.data_offsets)) must be two integers [begin, end] with 0 ≤ begin ≤ end")
                }
                var bytes = dtype.size
                for d in shape {
                    let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
                    guard !overflow else { throw problem("shape \(shape) is too large") }
                    bytes = product
                }
                guard offsets[1] - offsets[0] == bytes else {
                    throw problem("shape \(shape) of \(info.dtype) needs \(bytes) bytes but data_offsets [\(offsets[0]), \(offsets[1])] span \(offsets[1] - offsets[0])")
                }
                header.entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
            }
            return header
        }

        /// JSON numbers as non-negative integers, or `nil` if one is fractional, negative or huge.
        private static func naturals(_ numbers: [Double]) -> [Int]? {
            var result: [Int] = []
            for x in numbers {
                guard x >= 0, x < 0x1p53, let n = Int(exactly: x) else { return nil }
                result.append(n)
            }
            return result
        }

        /// Numbers as the file wrote them (integers without a fraction).
        private static func show(_ numbers: [Double]) -> String {
            "[" + numbers.map { Int(exactly: $0).map(String.init) ?? "\($0)" }.joined(separator: ", ") + "]"
        }

        /// A decoding failure in words: which tensor (or the metadata) and which field.
        private static func describe(_ error: DecodingError) -> String {
            let (path, detail): ([CodingKey], String) = switch error {
            case .typeMismatch(_, let c), .valueNotFound(_, let c): (c.codingPath, "has the wrong type")
            case .keyNotFound(let key, let c): (c.codingPath + [key], "is missing")
            case .dataCorrupted(let c): (c.codingPath, "is not valid JSON (\(c.underlyingError.map { "\($0)" } ?? c.debugDescription))")
            @unknown default: ([], "cannot be decoded")
            }
            guard let first = path.first else { return "the header \(detail)" }
            let rest = path.dropFirst().map { $0.intValue.map { "[\($0)]" } ?? "\"\($0.stringValue)\"" }.joined(separator: " ")
            let owner = first.stringValue == "__metadata__" ? "__metadata__" : "tensor '\(first.stringValue)'"
            return rest.isEmpty ? "\(owner) \(detail)" : "\(owner): \(rest) \(detail)"
        }

        /// The header as JSON types: `__metadata__` (strings only) and one entry per tensor.
        private struct Raw: Decodable {
            var entries: [(String, RawEntry)] = []
            var metadata: [String: String] = [:]

            init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: Key.self)
                for key in container.allKeys {
                    if key.stringValue == "__metadata__" {
                        metadata = try container.decode([String: String].self, forKey: key)
                    } else {
                        entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
                    }
                }
            }
        }

        /// Numbers are decoded as `Double` (exact below 2⁵³) so that fractions and negatives get
        /// a precise message instead of a generic decoding error.
        private struct RawEntry: Decodable {
            let dtype: String
            let shape: [Double]
            let data_offsets: [Double]
        }

        private struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }
}

/// A malformed or unreadable safetensors file: which file, and what is wrong with it.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// Path (or name) of the file.
    public let file: String
    /// What is wrong.
    public let problem: String

    public var description: String { "\(file): \(problem)" }
}
