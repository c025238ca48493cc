import Foundation
import Testing
@testable import Datasets

/// Inputs the fuzz targets (Fuzz/, scripts/fuzz.sh) found, kept inline: each once crashed,
/// hung or leaked and must now fail with a ``DatasetError``.
struct FuzzRegressionTests {
    private func expectDatasetError(_ body: () throws -> Void) {
        #expect(throws: DatasetError.self) { try body() }
    }

    /// fuzz-pickle: a list that contains itself (`]q\0h\0a.`) made the resolver recurse
    /// forever (and leaked the list's reference cycle).
    @Test func pickleListContainingItself() {
        expectDatasetError { _ = try Pickle.load([0x80, 4, 0x5D, 0x71, 0, 0x68, 0, 0x61, 0x2E], name: "cycle.bin") }
    }

    /// fuzz-pickle: a memo "billion laughs" — each list holds the previous one 16 times, 12
    /// levels deep — would copy 16¹² items; the element limit stops it at once.
    @Test func pickleMemoExpansion() {
        var bytes: [UInt8] = [0x80, 4, 0x28, 0x5D, 0x71, 0]       // MARK, list 0 → memo 0
        for level in 1...12 {                                       // list n = [list n−1] × 16 → memo n
            bytes += [0x5D, 0x28] + (0..<16).flatMap { _ in [0x68, UInt8(level - 1)] } + [0x65, 0x71, UInt8(level)]
        }
        bytes += [0x74, 0x2E]                                       // TUPLE of all lists, STOP
        expectDatasetError { _ = try Pickle.load(bytes, name: "laughs.bin") }
    }

    /// fuzz-idx: dimensions 0xFFFFFFFF³ overflowed `Int` when multiplied (a trap).
    @Test func idxDimensionOverflow() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let file = dir.appendingPathComponent("images")
        try Data([0, 0, 8, 3] + [UInt8](repeating: 0xFF, count: 12) + [1, 2, 3]).write(to: file)
        expectDatasetError { _ = try Digits.readIDX(file, expectedRank: 3) }
    }

    /// fuzz-gzip: a corrupt stream threw without freeing the output buffer (LeakSanitizer);
    /// fuzz-digits-text / fuzz-recordio / fuzz-idx: reading a 1-byte file through
    /// `Data(contentsOf:options: .mappedIfSafe)` leaked 4 KiB. Both paths now throw or read
    /// without leaking (checked by scripts/sanitize.sh and the fuzz targets).
    @Test func corruptDeflateAndShortFiles() throws {
        expectDatasetError { _ = try Inflate.inflate([0x07, 0xFF, 0xFF], name: "bad.deflate") }
        expectDatasetError { _ = try Inflate.gunzip([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x05], name: "bad.gz") }
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let file = dir.appendingPathComponent("k.txt")
        try Data([0x6B]).write(to: file)
        #expect(try readFile(file) == [0x6B])
        expectDatasetError { _ = try Digits.usps(file) }
        expectDatasetError { _ = try readFile(dir) }
        expectDatasetError { _ = try readFile(dir.appendingPathComponent("missing")) }
    }
}

/// fuzz-recordio: a `.rec` with a bad `.idx` (or a bad record found while scanning) threw from
/// `RecordIOFile.init` after mapping the file, and a throwing class initialiser runs no
/// `deinit`: every failure leaked a mapping until `mmap` failed. Thousands of failing opens
/// must leave the process's mapping count where it was.
struct RecordIOMappingRegressionTests {
    private func mappingCount() -> Int? {
        (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)).map { $0.split(separator: "\n").count }
    }

    @Test func failedOpensDoNotLeakMappings() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let rec = dir.appendingPathComponent("a.rec"), idx = dir.appendingPathComponent("a.idx")
        try Data([0x0A, 0x23, 0xD7, 0xCE, 4, 0, 0, 0, 1, 2, 3, 4, 0xFF]).write(to: rec)   // one record, then garbage
        try Data("0\t0\nnot an index line\n".utf8).write(to: idx)
        guard let before = mappingCount() else { return }   // no /proc: nothing to measure
        for _ in 0..<2000 {
            #expect(throws: DatasetError.self) { _ = try RecordIOFile(rec: rec, idx: idx) }
            #expect(throws: DatasetError.self) { _ = try RecordIOFile(rec: rec, idx: nil) }
        }
        let after = try #require(mappingCount())
        #expect(after < before + 100, "\(after - before) mappings leaked")
    }
}
