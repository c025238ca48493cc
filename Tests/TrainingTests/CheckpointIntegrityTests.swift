import Foundation
import Testing
import CrossRes
import TestSupport
@testable import Training

/// Checkpoints carry a CRC-64 of their content; truncated, bit-flipped and unverifiable files
/// are rejected with an error naming the file, and killed saves leave nothing that loads wrong.
@Suite final class CheckpointIntegrityTests {
    /// This test's folder (each test runs on a fresh instance), removed when the test ends.
    let folder = temporaryFolder()
    deinit { removeFolder(folder) }

    /// A checkpoint of the distillation fixture after 3 steps, written to the test's folder.
    func writtenCheckpoint() throws -> (path: String, bytes: [UInt8], headerEnd: Int) {
        let path = folder + "/checkpoint.safetensors"
        let task = makeDistillationTask(seed: 21)
        try TrainingLoop(steps: 3, checkpointPath: path).run(task, batches: RandomBatches(seed: 4))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        return (path, bytes, 8 + headerLength)
    }

    /// Loading `bytes` (written next to `path`) fails with a bad-checkpoint error naming the file.
    func expectRejected(_ bytes: [UInt8], near path: String, _ what: String, mentioning detail: String? = nil) {
        let damaged = path + ".damaged"
        _ = FileManager.default.createFile(atPath: damaged, contents: Data(bytes))
        do {
            let checkpoint = try Checkpoint(contentsOf: damaged)
            Issue.record("\(what): loaded (step \(checkpoint.step)) instead of being rejected")
        } catch let error as TrainingError {
            guard case .badCheckpoint(let named, _) = error else { Issue.record("\(what): wrong error \(error)"); return }
            #expect(named == damaged, "\(what)")
            #expect("\(error)".hasPrefix("checkpoint \(damaged):"), "\(what)")
            if let detail { #expect("\(error)".contains(detail), "\(what): \(error)") }
        } catch {
            Issue.record("\(what): unexpected error type \(error)")
        }
    }

    @Test func crc64MatchesTheXZCheckValueAndIsIndependentOfChunking() {
        var check = CRC64()
        check.update(bytes: Array("123456789".utf8))
        #expect(check.value == 0x995D_C9BB_DF19_39FA)
        var g = RandomGenerator(seed: 3)
        let bytes = (0..<1037).map { _ in UInt8(g.nextUniform() * 255.99) }
        var whole = CRC64(), pieces = CRC64()
        whole.update(bytes: bytes)
        for start in stride(from: 0, to: bytes.count, by: 13) { pieces.update(bytes: bytes[start..<min(start + 13, bytes.count)]) }
        #expect(whole.value == pieces.value)
        var flipped = bytes
        flipped[500] ^= 0x10
        var other = CRC64()
        other.update(bytes: flipped)
        #expect(other.value != whole.value)
    }

    @Test func everyWrittenCheckpointCarriesAVerifiedChecksum() throws {
        let (path, _, _) = try writtenCheckpoint()
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        let stored = try #require(file.metadata["crossres.checksum"])
        #expect(stored.hasPrefix("crc64-xz:") && stored.count == "crc64-xz:".count + 16)
        #expect(stored == CheckpointChecksum.compute(tensors: file.tensors, metadata: file.metadata))
        #expect(try Checkpoint(contentsOf: path).step == 3)
    }

    /// The documented formula, implemented again in Python (bitwise CRC-64/XZ, tensors read by
    /// the `safetensors` package), gives the stored checksum: the file is verifiable outside CrossRes.
    @Test(.enabled(if: Python.has("numpy", "safetensors"), "python3 with numpy and safetensors is needed"))
    func checksumFormulaIsReproducedIndependentlyInPython() throws {
        let (path, _, _) = try writtenCheckpoint()
        let script = """
            import sys, struct
            from safetensors import safe_open
            table = []
            for b in range(256):
                c = b
                for _ in range(8):
                    c = (c >> 1) ^ 0xC96C5795D7870F42 if c & 1 else c >> 1
                table.append(c)
            def update(c, data):
                for byte in data:
                    c = (c >> 8) ^ table[(c ^ byte) & 0xFF]
                return c
            c = (1 << 64) - 1
            with safe_open(sys.argv[1], framework="numpy") as f:
                meta = f.metadata()
                for name in sorted(f.keys(), key=lambda s: s.encode()):
                    t = f.get_tensor(name).astype("<f4")
                    c = update(c, name.encode() + b"\\0" + struct.pack("<Q", t.ndim) + b"".join(struct.pack("<Q", d) for d in t.shape) + t.tobytes())
            for key in sorted(meta, key=lambda s: s.encode()):
                if key != "crossres.checksum":
                    c = update(c, key.encode() + b"\\0" + meta[key].encode() + b"\\0")
            print("crc64-xz:%016x" % (c ^ ((1 << 64) - 1)))
            print(meta["crossres.checksum"])
            """
        let lines = try Python.run(script, arguments: [path]).split(separator: "\n")
        #expect(lines.count == 2 && lines[0] == lines[1], "Python: \(lines)")
    }

    @Test func truncatedCheckpointsAreRejectedNamingTheFile() throws {
        let (path, bytes, headerEnd) = try writtenCheckpoint()
        let cuts = [0, 3, 8, headerEnd / 2, headerEnd - 1, headerEnd, headerEnd + 1, (headerEnd + bytes.count) / 2,
                    bytes.count - 4, bytes.count - 1]
        for cut in cuts { expectRejected(Array(bytes[..<cut]), near: path, "truncated at byte \(cut) of \(bytes.count)") }
        expectRejected(bytes + [0, 0, 0, 0], near: path, "4 bytes appended")
    }

    @Test func bitFlipsInHeaderOrDataAreRejected() throws {
        let (path, bytes, headerEnd) = try writtenCheckpoint()
        // Every 23rd header byte (structure, names, shapes, offsets, metadata) and data bytes
        // spread over the buffer: each single-bit flip must be caught.
        var positions = Array(stride(from: 0, to: headerEnd, by: 23))
        positions += stride(from: headerEnd, to: bytes.count, by: max(1, (bytes.count - headerEnd) / 40)) + [bytes.count - 1]
        for (i, position) in positions.enumerated() {
            var damaged = bytes
            damaged[position] ^= UInt8(1 << (i % 8))
            expectRejected(damaged, near: path, "bit \(i % 8) of byte \(position) flipped")
        }
        // A flip in a float keeps the file well-formed: only the checksum can tell.
        var data = bytes
        data[headerEnd + 17] ^= 0x01
        expectRejected(data, near: path, "one data bit", mentioning: "checksum mismatch")
        // So does a flip that turns the step "3" into "2" in the metadata.
        let step = Array(#""crossres.step":"3""#.utf8)
        let at = try #require((0..<headerEnd).first { Array(bytes[$0..<($0 + step.count)]) == step })
        var metadata = bytes
        metadata[at + step.count - 2] ^= 0x01
        expectRejected(metadata, near: path, "step digit", mentioning: "checksum mismatch")
    }

    @Test func checkpointWithoutChecksumNeedsExplicitTrust() throws {
        let path = folder + "/old.safetensors"
        let task = makeDistillationTask(seed: 2)
        let old = Checkpoint(capturing: task, step: 5)
        try Safetensors(tensors: old.tensors, metadata: old.metadata).write(to: URL(fileURLWithPath: path))
        #expect {
            try Checkpoint(contentsOf: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("crossres.checksum") && "\(error)".contains(".ifPresent")
        }
        #expect(try Checkpoint(contentsOf: path, verification: .ifPresent).step == 5)
        // A checksummed file is verified even when unverified files are accepted.
        let (checked, bytes, headerEnd) = try writtenCheckpoint()
        var damaged = bytes
        damaged[headerEnd + 5] ^= 0x80
        try Data(damaged).write(to: URL(fileURLWithPath: checked))
        #expect(throws: TrainingError.self) { try Checkpoint(contentsOf: checked, verification: .ifPresent) }
    }

    @Test func leftoversOfAKilledSaveAreIgnoredThenRemoved() throws {
        let (path, bytes, _) = try writtenCheckpoint()
        // What a save killed after writing part of its temporary file leaves behind.
        let leftover = folder + "/.checkpoint.safetensors.DEAD-BEEF.tmp"
        _ = FileManager.default.createFile(atPath: leftover, contents: Data(bytes[..<(bytes.count / 3)]))
        let task = makeDistillationTask(seed: 21)
        #expect(try TrainingLoop.resume(task, from: path) == 3)
        try Checkpoint(capturing: task, step: 3).write(to: path)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["checkpoint.safetensors"])
    }
}
