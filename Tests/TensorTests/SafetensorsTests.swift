import Testing
import Foundation
import Tensor
import TestSupport

/// safetensors: round trips, files written by Python, and rejection of malformed files.
@Suite struct SafetensorsTests {
    static func temporaryDirectory() throws -> URL { try TemporaryDirectory.make("safetensors") }

    static func sample() -> Safetensors {
        Safetensors(tensors: [
            "backbone.conv.weight": random([4, 3, 2, 2], seed: 131),
            "scalar": Tensor(-0.0),
            "special": Tensor([.nan, .infinity, -.infinity, .leastNonzeroMagnitude, -0.0, .greatestFiniteMagnitude]),
            "empty": Tensor.zeros([0, 3]),
            "ünïcode \"name\"\n": Tensor([1, 2]),
        ], metadata: ["format": "pt", "note": "quotes \" backslash \\ tab \t ü", "epoch": "12"])
    }

    static func expectIdentical(_ a: Safetensors, _ b: Safetensors, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.metadata == b.metadata, sourceLocation: sourceLocation)
        #expect(Set(a.tensors.keys) == Set(b.tensors.keys), sourceLocation: sourceLocation)
        for (name, t) in a.tensors {
            guard let u = b.tensors[name] else { continue }
            #expect(t.shape == u.shape, "\(name)", sourceLocation: sourceLocation)
            #expect(t.scalars.map(\.bitPattern) == u.scalars.map(\.bitPattern), "\(name)", sourceLocation: sourceLocation)
        }
    }

    @Test func roundTripThroughAFile() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let original = Self.sample()
        try original.write(to: url)
        let read = try Safetensors(contentsOf: url)
        Self.expectIdentical(original, read)
        #expect(read.dtypes.values.allSatisfy { $0 == .f32 })
        // Overwriting replaces the file; no temporary file is left behind.
        try Safetensors(tensors: ["only": Tensor([3])]).write(to: url)
        #expect(try Safetensors(contentsOf: url).tensors.keys.sorted() == ["only"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    /// The metadata read from the header alone is the whole read's; a file cut inside its header
    /// or its length field is refused with the file's name, one cut in its data is not (its
    /// tensors are not read).
    @Test func metadataFromTheHeaderAlone() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        let file = Safetensors(tensors: ["w": Tensor([1, 2, 3])], metadata: ["epoch": "3", "name": "a b"])
        try file.write(to: url)
        #expect(try Safetensors.metadata(contentsOf: url) == Safetensors(contentsOf: url).metadata)
        let bytes = try Data(contentsOf: url)
        let headerEnd = 8 + Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try bytes.prefix(headerEnd + 4).write(to: url)
        #expect(try Safetensors.metadata(contentsOf: url)["epoch"] == "3")
        for cut in [0, 5, 8, headerEnd - 1] {
            try bytes.prefix(cut).write(to: url)
            #expect { try Safetensors.metadata(contentsOf: url) } throws: { error in
                (error as? SafetensorsError)?.file == url.path
            }
        }
        #expect(throws: SafetensorsError.self) { try Safetensors.metadata(contentsOf: directory) }
    }

    /// A tensor named like the header's metadata key would make a file no reader loads: refused,
    /// nothing written.
    @Test func aTensorNamedMetadataIsRefused() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("bad.safetensors")
        #expect { try Safetensors(tensors: ["__metadata__": Tensor([1])]).write(to: url) } throws: { error in
            "\(error)".contains("a tensor cannot be named '__metadata__'")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func layout() throws {
        let data = Self.sample().encoded()
        #expect(try Safetensors(data: data).tensors.count == 5)
        let headerLength = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect((8 + headerLength) % 8 == 0, "data must start 8-byte aligned")
        // Tensors are stored in name order, contiguously.
        let two = Safetensors(tensors: ["b": Tensor([2]), "a": Tensor([1, 1])]).encoded()
        let text = String(decoding: two.dropFirst(8), as: UTF8.self)
        #expect(text.contains(#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#))
        #expect(text.contains(#""b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#))
    }

    @Test func writingIntoAMissingDirectoryFailsWithTheFileName() throws {
        let url = URL(fileURLWithPath: "/nonexistent-crossres-dir/model.safetensors")
        #expect { try Self.sample().write(to: url) } throws: { error in
            (error as? SafetensorsError)?.file == url.path
        }
        #expect { try Safetensors(contentsOf: url) } throws: { error in
            guard let e = error as? SafetensorsError else { return false }
            return e.file == url.path && e.problem.hasPrefix("cannot read the file")
        }
    }

    @Test func halfAndBrainFloatConversion() {
        // binary16: 1, −2, 65504 (max), 2⁻²⁴ (smallest subnormal), 2⁻¹⁴ (smallest normal), ±∞, NaN.
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x0400, 0x7C00, 0xFC00, 0x7E00, 0x8000]
        let expected: [Float] = [1, -2, 65504, 0x1p-24, 0x1p-14, .infinity, -.infinity, .nan, -0.0]
        var half = Self.prefix(#"{"h":{"dtype":"F16","shape":[9],"data_offsets":[0,18]}}"#)
        for h in halves { withUnsafeBytes(of: h.littleEndian) { half.append(contentsOf: $0) } }
        let decoded = (try? Safetensors(data: half))?.tensors["h"]?.scalars ?? []
        #expect(decoded.count == expected.count)
        for (f, e) in zip(decoded, expected) { #expect(e.isNaN ? f.isNaN : f.bitPattern == e.bitPattern, "\(f) vs \(e)") }
        // A BF16 file built by hand: bfloat16 is the top half of a float32.
        let values: [Float] = [1.5, -3.25, 1e30]
        let entry = #"{"x":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}"#
        var data = Self.prefix(entry)
        for v in values { withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { data.append(contentsOf: $0) } }
        let read = try? Safetensors(data: data)
        #expect(read?.dtypes["x"] == .bf16)
        #expect(read?.tensors["x"]?.scalars == values.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) })
    }

    // MARK: Files written by Python

    /// Whether `python3` with numpy and safetensors can run.
    static let pythonAvailable = Python.has("numpy", "safetensors.numpy")

    /// Writes every numpy-supported dtype with `safetensors.numpy.save_file`, and the expected
    /// float32 bit patterns (numpy's own conversion) as JSON.
    static let pythonScript = #"""
    import json, sys
    import numpy as np
    from safetensors.numpy import save_file
    rng = np.random.default_rng(7)
    base = rng.standard_normal((3, 4)) * 100
    arrays = {
        "f32": base.astype(np.float32),
        "f16": base.astype(np.float16),
        "f64": base.astype(np.float64) / 7,
        "i64": np.array([[-2**40, -1, 0, 2**53 + 1]], dtype=np.int64),
        "i32": np.arange(-5, 7, dtype=np.int32).reshape(2, 2, 3),
        "i16": np.array([-32768, 32767], dtype=np.int16),
        "i8": np.array([-128, -1, 127], dtype=np.int8),
        "u8": np.array([0, 200, 255], dtype=np.uint8),
        "bool": np.array([[True, False], [False, True]]),
        "scalar": np.array(3.5, dtype=np.float32),
        "empty": np.zeros((0, 2), dtype=np.float32),
    }
    save_file(arrays, sys.argv[1], metadata={"format": "np", "note": "written by Python ü"})
    expected = {k: {"shape": list(v.shape), "bits": v.astype(np.float32).reshape(-1).view(np.uint32).tolist()} for k, v in arrays.items()}
    json.dump(expected, open(sys.argv[2], "w"))
    """#

    @Test(.enabled(if: pythonAvailable, "python3 with numpy and safetensors is not installed: skipping the interchange test"))
    func readsFilesWrittenByPython() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("python.safetensors"), json = directory.appendingPathComponent("expected.json")
        try Python.run(Self.pythonScript, arguments: [file.path, json.path])

        struct Expected: Decodable { let shape: [Int]; let bits: [UInt32] }
        let expected = try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: json))
        let read = try Safetensors(contentsOf: file)
        #expect(read.metadata == ["format": "np", "note": "written by Python ü"])
        #expect(Set(read.tensors.keys) == Set(expected.keys))
        for (name, e) in expected {
            let t = try #require(read.tensors[name], "missing \(name)")
            #expect(t.shape == e.shape, "\(name)")
            #expect(t.scalars.map(\.bitPattern) == e.bits, "\(name) values differ")
        }
        let dtypes: [String: Safetensors.DType] = ["f32": .f32, "f16": .f16, "f64": .f64, "i64": .i64, "i32": .i32,
                                                   "i16": .i16, "i8": .i8, "u8": .u8, "bool": .bool]
        for (name, dtype) in dtypes { #expect(read.dtypes[name] == dtype) }
    }

    @Test(.enabled(if: pythonAvailable, "python3 with numpy and safetensors is not installed: skipping the interchange test"))
    func pythonReadsOurFiles() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("ours.safetensors")
        let t = random([2, 3], seed: 132)
        try Safetensors(tensors: ["w": t, "b": Tensor([1, -1])], metadata: ["k": "v"]).write(to: file)
        let script = """
        import sys, numpy as np
        from safetensors import safe_open
        with safe_open(sys.argv[1], "np") as f:
            assert f.metadata() == {"k": "v"}, f.metadata()
            w = f.get_tensor("w")
            assert w.dtype == np.float32 and w.shape == (2, 3), (w.dtype, w.shape)
            print(" ".join(str(v) for v in w.reshape(-1).view(np.uint32).tolist()))
        """
        let output = try Python.run(script, arguments: [file.path])
        #expect(output.split(separator: " ").compactMap { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == t.scalars.map(\.bitPattern))
    }

    // MARK: Malformed files

    /// The length prefix and a header.
    static func prefix(_ header: String) -> Data { prefix(bytes: Array(header.utf8)) }

    static func prefix(bytes header: [UInt8]) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        return data
    }

    /// A header with one F32 tensor "w" described by `entry`, followed by `bytes` data bytes.
    static func file(_ header: String, dataBytes: Int) -> Data { prefix(header) + Data(count: dataBytes) }

    static let malformed: [(name: String, data: Data, problem: String)] = [
        ("empty", Data(), "file is too short (0 bytes) to hold the 8-byte header length"),
        ("short", Data([1, 2, 3]), "file is too short (3 bytes)"),
        ("huge header length", Data([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B]), "header length 18446744073709551615 is implausible"),
        ("header past the end", Data([100, 0, 0, 0, 0, 0, 0, 0]) + Data("{}".utf8), "header length 100 exceeds the 2 bytes that follow it"),
        ("not JSON", prefix("{\"w\": [1, 2"), "the header is not valid JSON"),
        ("not an object", prefix("[1, 2]"), "the header is not a JSON object"),
        ("invalid UTF-8", prefix(bytes: Array("{\"w\":\"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8)), "the header is not valid UTF-8"),
        ("unknown dtype", file(#"{"w":{"dtype":"F8_E9","shape":[2],"data_offsets":[0,2]}}"#, dataBytes: 2), "tensor 'w': unsupported dtype \"F8_E9\""),
        ("missing dtype", file(#"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'w': \"dtype\" is missing"),
        ("fractional shape", file(#"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'w': shape [2.5] must hold non-negative integers"),
        ("negative shape", file(#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'w': shape [-2] must hold non-negative integers"),
        ("huge shape", file(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'w': shape [4294967296, 4294967296] is too large"),
        ("boolean shape", file(#"{"w":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, dataBytes: 4), "tensor 'w': \"shape\" [0] has the wrong type"),
        ("three offsets", file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#, dataBytes: 8), "tensor 'w': data_offsets [0, 4, 8] must be two integers"),
        ("reversed offsets", file(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, dataBytes: 8), "tensor 'w': data_offsets [8, 0] must be two integers"),
        ("size mismatch", file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8), "tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8"),
        ("out of range", file(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, dataBytes: 8), "tensor 'w': data_offsets [0, 16] are out of range for the 8-byte data buffer"),
        ("overlap", file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12),
         "tensor 'b': data_offsets [4, 12] overlap the previous tensor, which ends at 8"),
        ("gap", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, dataBytes: 12),
         "tensor 'b': data_offsets [8, 12] leave a gap after byte 4"),
        ("trailing bytes", file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 9), "the data buffer has 9 bytes but the tensors cover 4"),
        ("non-string metadata", file(#"{"__metadata__":{"epoch":3},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4),
         "__metadata__: \"epoch\" has the wrong type"),
    ]

    @Test(arguments: malformed.indices) func rejectsMalformedFiles(_ index: Int) {
        let (name, data, problem) = Self.malformed[index]
        #expect { try Safetensors(data: data, source: "broken.safetensors") } throws: { error in
            guard let e = error as? SafetensorsError else { return false }
            let matches = e.file == "broken.safetensors" && e.problem.contains(problem)
            if !matches { Issue.record("\(name): got “\(e.problem)”, expected it to contain “\(problem)”") }
            return matches && e.description.hasPrefix("broken.safetensors: ")
        }
    }

    /// A text file, a RecordIO `.rec` or a `metrics.jsonl` given as weights: the error says the
    /// file is not a safetensors file (it said only "header length … is implausible").
    @Test func filesOfAnotherKindAreNamedAsSuch() {
        let others: [(String, Data)] = [("notes.txt", Data("hello, these are my notes\n".utf8)),
                                        ("train.rec", Data([0x0A, 0x23, 0xD7, 0xCE, 24, 0, 0, 0] + [UInt8](repeating: 0, count: 24))),
                                        ("metrics.jsonl", Data(#"{"step": 1, "loss": 2.5}"#.utf8 + [0x0A]))]
        for (name, data) in others {
            #expect { try Safetensors(data: data, source: name) } throws: { error in
                let problem = (error as? SafetensorsError)?.problem ?? ""
                return problem.hasPrefix("not a safetensors file: header length ") && problem.contains("is implausible (the limit is 100000000 bytes)")
            }
        }
    }

    @Test func truncatedAndCorruptedFilesNeverCrash() {
        let valid = Self.sample().encoded()
        // Every truncation is rejected with a SafetensorsError.
        for length in Swift.stride(from: 0, to: valid.count, by: 7) {
            #expect(throws: SafetensorsError.self) { try Safetensors(data: valid.prefix(length)) }
        }
        // Random byte flips either decode or throw our error; they never trap.
        var rng = RandomGenerator(seed: 133)
        for _ in 0..<300 {
            var corrupt = valid
            for _ in 0..<3 {
                let i = Int(rng.next() % UInt64(corrupt.count))
                corrupt[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            do { _ = try Safetensors(data: corrupt) } catch { #expect(error is SafetensorsError) }
        }
    }
}

@Suite struct SafetensorsWriteTypeTests {
    @Test func tensorsAreWrittenInTheirRecordedType() throws {
        var file = Safetensors(tensors: ["count": Tensor([3, 70_000, -2]), "half": Tensor([1.5, -0.25]),
                                         "brain": Tensor([1.00390625, 3]), "flag": Tensor([0, 2])])
        file.dtypes["count"] = .i64
        file.dtypes["half"] = .f16
        file.dtypes["brain"] = .bf16
        file.dtypes["flag"] = .bool
        let back = try Safetensors(data: file.encoded())
        #expect(back.dtypes == ["count": .i64, "half": .f16, "brain": .bf16, "flag": .bool])
        #expect(back.tensors["count"]!.scalars == [3, 70_000, -2])
        #expect(back.tensors["half"]!.scalars == [1.5, -0.25])
        #expect(back.tensors["brain"]!.scalars == [1, 3], "bf16 keeps 8 mantissa bits, rounding to nearest even")
        #expect(back.tensors["flag"]!.scalars == [0, 1])
        // 8 bytes per I64 element, 2 per F16/BF16, 1 per BOOL, plus the header.
        let header = back.encoded().count - (3 * 8 + 2 * 2 + 2 * 2 + 2)
        #expect(header > 8 && header % 8 == 0)
    }
}
