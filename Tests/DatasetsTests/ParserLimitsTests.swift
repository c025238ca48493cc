import Foundation
import Testing
@testable import Datasets

/// Every ``ParserLimits`` bound is checked before allocating and named in the error.
struct ParserLimitsTests {
    /// A message that names `source` and says "limit".
    private func expectLimitError(_ source: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected a limit error for \(source)")
        } catch let error as DatasetError {
            #expect(error.source == source)
            #expect(error.message.contains("limit"), "message: \(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    private let small = Image(width: 6, height: 4, channels: 1, pixels: (0..<24).map { Float($0 * 10) })

    @Test func imageSideAndPixelCount() throws {
        // The header claims 40000×1 in a 20-byte file: refused before the raster is read.
        expectLimitError("big.pgm") { _ = try PNM.decode(Array("P5\n40000 1\n255\n".utf8) + [0, 0], name: "big.pgm") }
        var limits = ParserLimits()
        limits.maximumImagePixels = 23
        expectLimitError("a.pgm") { _ = try PNM.decode(PNM.encode(small), name: "a.pgm", limits: limits) }
        limits = ParserLimits()
        limits.maximumImageSide = 5
        expectLimitError("a.png") { _ = try PNG.decode(try PNG.encode(small), name: "a.png", limits: limits) }
        expectLimitError("a.jpg") { _ = try JPEG.decode(try JPEG.encode(small), name: "a.jpg", limits: limits) }
        expectLimitError("any") { _ = try Image(decoding: try PNG.encode(small), name: "any", limits: limits) }
        // Within the limits the same files decode.
        limits.maximumImageSide = 6
        #expect(try PNG.decode(try PNG.encode(small), name: "a.png", limits: limits) == small)
    }

    @Test func recordLength() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let rec = dir.appendingPathComponent("a.rec"), idx = dir.appendingPathComponent("a.idx")
        let writer = try RecordIOWriter(rec: rec, idx: idx)
        try writer.write(key: 0, payload: [UInt8](repeating: 7, count: 100))
        try writer.finish()
        var limits = ParserLimits()
        limits.maximumRecordBytes = 99
        let file = try RecordIOFile(rec: rec, idx: idx, limits: limits)
        expectLimitError(rec.path) { _ = try file.record(key: 0) }
        expectLimitError(rec.path) { _ = try RecordIOFile(rec: rec, idx: nil, limits: limits) }
        limits.maximumRecordBytes = 100
        #expect(try RecordIOFile(rec: rec, idx: idx, limits: limits).record(key: 0).count == 100)
    }

    /// `(((…((),)…),),)`: `depth` nested one-element tuples, pickled at protocol 2.
    private func nestedTuples(_ depth: Int) -> [UInt8] {
        [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: depth - 1) + [0x2E]
    }

    @Test func pickleDepthListsAndElements() throws {
        _ = try Pickle.load(nestedTuples(32), name: "ok.bin")
        expectLimitError("deep.bin") { _ = try Pickle.load(nestedTuples(33), name: "deep.bin") }
        // Lists nested 33 deep: EMPTY_LIST ×33, then APPEND ×32 folds each into the one below.
        let lists = [0x80, 4] + [UInt8](repeating: 0x5D, count: 33) + [UInt8](repeating: 0x61, count: 32) + [0x2E]
        expectLimitError("lists.bin") { _ = try Pickle.load(lists, name: "lists.bin") }
        var limits = ParserLimits()
        limits.maximumPickleLists = 1
        let set = VerificationBin(images: [[1, 2], [3]], isSame: [true])
        expectLimitError("two-lists.bin") { _ = try VerificationBin(bytes: set.encoded(), name: "two-lists.bin", limits: limits) }
        limits = ParserLimits()
        limits.maximumPickleElements = 2
        expectLimitError("items.bin") { _ = try VerificationBin(bytes: set.encoded(), name: "items.bin", limits: limits) }
        limits.maximumPickleElements = 3
        #expect(try VerificationBin(bytes: set.encoded(), name: "ok.bin", limits: limits).images == set.images)
    }

    private func idx(_ dimensions: [Int], _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return out + data
    }

    @Test func idxItemsAndImageSize() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let images = dir.appendingPathComponent("images"), labels = dir.appendingPathComponent("labels")
        try Data(idx([2, 2, 2], [UInt8](repeating: 9, count: 8))).write(to: images)
        try Data(idx([2], [1, 2])).write(to: labels)
        var limits = ParserLimits()
        limits.maximumIDXItems = 1
        expectLimitError(images.path) { _ = try Digits.mnistIDX(images: images, labels: labels, limits: limits) }
        limits = ParserLimits()
        limits.maximumImageSide = 1
        expectLimitError(images.path) { _ = try Digits.mnistIDX(images: images, labels: labels, limits: limits) }
        #expect(try Digits.mnistIDX(images: images, labels: labels).count == 2)
    }

    @Test func decompressedSize() throws {
        // A gzip member with one stored block of 64 zero bytes.
        let payload = [UInt8](repeating: 0, count: 64)
        let crc = payload.withUnsafeBufferPointer { CRC32.checksum($0) }
        var gzip: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0x01, 64, 0, 0xBF, 0xFF] + payload
        for v in [crc, UInt32(payload.count)] { gzip += (0..<4).map { UInt8(v >> (8 * $0) & 0xFF) } }
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let file = dir.appendingPathComponent("labels.gz")
        try Data(gzip).write(to: file)
        #expect(try Digits.contents(file, limits: .standard) == payload)
        var limits = ParserLimits()
        limits.maximumDecompressedBytes = 63
        expectLimitError(file.path) { _ = try Digits.contents(file, limits: limits) }
    }
}
