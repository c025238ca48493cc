import Foundation
import Testing
@testable import Datasets
import TestSupport

@Test func recordIORoundTripInInsightfaceLayout() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let faces = SyntheticFaces(identities: 4, imagesPerIdentity: 3, size: 16, seed: 2)
    let shuffled = SubsetDataset(faces, indices: [5, 0, 11, 3, 1, 2, 4, 6, 7, 8, 9, 10])
    let rec = dir.appendingPathComponent("train.rec")
    try RecordIODataset.write(shuffled, rec: rec, format: .png)
    let set = try RecordIODataset(rec: rec)
    #expect(set.count == 12 && set.identityCount == 4)
    #expect(set.labels == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    #expect(set.file.count == 1 + 12 + 4)
    // Written grouped by label, in subset order within a label.
    let order = (0..<12).sorted { (shuffled.label(at: $0), $0) < (shuffled.label(at: $1), $1) }
    for i in 0..<12 { #expect(try set.sample(at: i).image == shuffled.sample(at: order[i]).image.quantized()) }
    let (identity, _) = try RecordIO.unpack(try set.file.record(key: 13), name: "identity record")
    #expect(identity.labels == [1, 4])
    try FileManager.default.removeItem(at: dir.appendingPathComponent("train.idx"))
    let scanned = try RecordIODataset(rec: rec)
    #expect(scanned.labels == set.labels && scanned.identityCount == 4)
}

@Test func recordIOSplitsPayloadsAroundTheMagicWord() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let rec = dir.appendingPathComponent("a.rec"), idx = dir.appendingPathComponent("a.idx")
    let magic: [UInt8] = [0x0A, 0x23, 0xD7, 0xCE]
    let payloads: [[UInt8]] = [[1, 2, 3], magic + [9, 9, 9, 9] + magic + [7], [1, 2, 3, 4] + magic, [], [0, 0] + magic]
    let writer = try RecordIOWriter(rec: rec, idx: idx)
    for (key, payload) in payloads.enumerated() { try writer.write(key: key * 10, payload: payload) }
    try writer.finish()
    let file = try RecordIOFile(rec: rec, idx: idx)
    #expect(file.keys == [0, 10, 20, 30, 40])
    for (key, payload) in payloads.enumerated() { #expect(try file.record(key: key * 10) == payload) }
    let scanned = try RecordIOFile(rec: rec, idx: nil)
    #expect(try scanned.record(key: 1) == payloads[1])
}

/// The writer's temporary files are hidden (`.NAME.<UUID>.tmp` beside the outputs): a writer
/// killed before ``RecordIOWriter/finish()`` leaves nothing under a visible name (`pack` left
/// `NAME.rec.tmp-<UUID>`), and one dropped unfinished leaves nothing at all.
@Test func recordIOWriterWritesUnderHiddenNamesUntilItFinishes() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let rec = dir.appendingPathComponent("w.rec"), idx = dir.appendingPathComponent("w.idx")
    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }
    do {
        let writer = try RecordIOWriter(rec: rec, idx: idx)
        try writer.write(key: 0, payload: [1, 2, 3])
        let during = try withExtendedLifetime(writer) { try entries() }
        #expect(!during.isEmpty && during.allSatisfy { $0.hasPrefix(".w.rec.") && $0.hasSuffix(".tmp") }, "\(during)")
    }
    #expect(try entries().isEmpty)
    let writer = try RecordIOWriter(rec: rec, idx: idx)
    try writer.write(key: 0, payload: [1, 2, 3])
    try writer.finish()
    #expect(try entries() == ["w.idx", "w.rec"])
}

/// What killed writers left (no lock held and unchanged for a while: a `.rec` temporary with its
/// writer's index temporary, an index temporary alone) is removed; what a running writer writes
/// (its lock held) and what changed a moment ago are kept and listed; the running writer then
/// finishes.
@Test func leftoversOfKilledWritersAreRemovedRunningOnesKept() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let rec = dir.appendingPathComponent("w.rec"), idx = dir.appendingPathComponent("w.idx")
    func file(_ name: String, _ bytes: Int) { _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data(count: bytes)) }
    let dead = UUID().uuidString, orphan = UUID().uuidString
    file(".w.rec.\(dead).tmp", 300); file(".w.idx.\(dead).tmp", 20); file(".w.idx.\(orphan).tmp", 10)
    file(".w.rec.tmp", 5); file(".w.rec.mine.tmp", 5)  // (not a writer's names: never touched)
    let recent = UUID().uuidString
    file(".w.rec.\(recent).tmp", 7)  // (unlocked, but changed a moment ago: kept)
    let old = Date().addingTimeInterval(-2 * RecordIOWriter.staleAge)
    for name in [".w.rec.\(dead).tmp", ".w.idx.\(dead).tmp", ".w.idx.\(orphan).tmp"] {
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: dir.appendingPathComponent(name).path)
    }
    let running = try RecordIOWriter(rec: rec, idx: idx)
    try running.write(key: 0, payload: [1, 2, 3])
    let own = try #require(RecordIOWriter.leftovers(of: rec).first { ![dead, recent].contains(where: $0.lastPathComponent.contains) })
    try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: own.path)  // (its lock alone keeps it)

    let leftovers = RecordIOWriter.removeLeftovers(rec: rec, idx: idx)
    #expect(leftovers.removed.map(\.url.lastPathComponent) == [".w.rec.\(dead).tmp", ".w.idx.\(dead).tmp", ".w.idx.\(orphan).tmp"])
    #expect(leftovers.removed.map(\.bytes) == [300, 20, 10])
    #expect(Set(leftovers.kept.map(\.url.lastPathComponent)) == [own.lastPathComponent, ".w.rec.\(recent).tmp"])
    #expect(FileManager.default.fileExists(atPath: own.path), "the running writer's data is never removed")
    try running.finish()
    #expect(try RecordIOFile(rec: rec, idx: idx).record(key: 0) == [1, 2, 3])
    let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(left == [".w.rec.\(recent).tmp", ".w.rec.mine.tmp", ".w.rec.tmp", "w.idx", "w.rec"].sorted(), "\(left)")
}

@Suite(.enabled(if: Python.has("struct"), "python3 is not installed"))
struct RecordIOPythonTests {
    /// A `.rec` written by a Python implementation of MXNet's `MXIndexedRecordIO` +
    /// `recordio.pack` (IRHeader 'IfQQ', label arrays, dmlc's magic splitting), and ours read
    /// back by the same Python reader.
    @Test func interoperatesWithMXNetLayout() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let face = SyntheticFaces(identities: 1, imagesPerIdentity: 1, size: 12, seed: 4).sample(at: 0).image.quantized()
        try face.write(to: dir.appendingPathComponent("face.png"))
        try RecordIODataset.write(InMemoryDataset(samples: [Sample(image: face, label: 1), Sample(image: face, label: 0)]),
                                  rec: dir.appendingPathComponent("ours.rec"), format: .png)
        let report = try Python.run("""
        import struct
        MAGIC = 0xced7230a
        M = struct.pack('<I', MAGIC)
        def pack(labels, label, id, data):
            if labels is None:
                return struct.pack('IfQQ', 0, label, id, 0) + data
            return struct.pack('IfQQ', len(labels), 0.0, id, 0) + struct.pack('%df' % len(labels), *labels) + data
        def record(buf):
            out = b''; dptr = 0
            for i in range(0, len(buf) // 4 * 4, 4):
                if buf[i:i + 4] == M:
                    out += M + struct.pack('<I', ((1 if dptr == 0 else 2) << 29) | (i - dptr)) + buf[dptr:i]; dptr = i + 4
            part = buf[dptr:]
            return out + M + struct.pack('<I', ((3 if dptr else 0) << 29) | len(part)) + part + b'\\0' * ((4 - len(part) % 4) % 4)
        def read(rec, offset):
            out = b''
            while True:
                magic, lrec = struct.unpack('<II', rec[offset:offset + 8]); assert magic == MAGIC
                flag, n = lrec >> 29, lrec & ((1 << 29) - 1)
                out += rec[offset + 8:offset + 8 + n]; offset += 8 + (n + 3) // 4 * 4
                if flag in (0, 3): return out
                out += M
        img = open('face.png', 'rb').read()
        records = [(0, pack([3.0, 5.0], 0, 0, b'')), (1, pack([1.0, 7.0], 0, 1, img)), (2, pack(None, 0.0, 2, M + img + M)),
                   (3, pack([1.0, 2.0], 0, 3, b'')), (4, pack([2.0, 3.0], 0, 4, b''))]
        rec = b''; idx = ''
        for key, payload in records:
            idx += '%d\\t%d\\n' % (key, len(rec)); rec += record(payload)
        open('theirs.rec', 'wb').write(rec); open('theirs.idx', 'w').write(idx)
        ours = open('ours.rec', 'rb').read()
        for line in open('ours.idx'):
            key, offset = map(int, line.split('\\t'))
            payload = read(ours, offset)
            flag, label, id, id2 = struct.unpack('IfQQ', payload[:24])
            labels = struct.unpack('%df' % flag, payload[24:24 + 4 * flag])
            print(key, flag, label, labels, payload[24 + 4 * flag:] == img)
        """, in: dir)
        #expect(report == "0 2 0.0 (3.0, 5.0) False\n1 0 0.0 () True\n2 0 1.0 () True\n3 2 0.0 (1.0, 2.0) False\n4 2 0.0 (2.0, 3.0) False\n")
        let theirs = try RecordIODataset(rec: dir.appendingPathComponent("theirs.rec"))
        #expect(theirs.count == 2 && theirs.identityCount == 2 && theirs.labels == [1, 0])
        #expect(try theirs.sample(at: 0).image == face)
        let png = try Fixtures.bytes(dir.appendingPathComponent("face.png"))
        let magic: [UInt8] = [0x0A, 0x23, 0xD7, 0xCE]
        #expect(try RecordIO.unpack(try theirs.file.record(key: 2), name: "2").image == magic + png + magic)
    }

    @Test func corruptRecordFilesThrow() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let rec = dir.appendingPathComponent("c.rec")
        try RecordIODataset.write(SyntheticFaces(identities: 2, imagesPerIdentity: 1, size: 8), rec: rec)
        let bytes = try Fixtures.bytes(rec)
        try Array(bytes.prefix(bytes.count / 2)).write(to: rec)
        #expect(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
        try Array("0\t99999\n".utf8).write(to: dir.appendingPathComponent("c.idx"))
        #expect(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
        #expect(throws: DatasetError.self) { try RecordIODataset(rec: dir.appendingPathComponent("missing.rec")) }
    }
}

/// An `.idx` that does not fit its `.rec` — empty, cut short at a line, inside an offset or
/// after a key (an interrupted copy) — is an error naming the index and saying that without it the records
/// are scanned (the errors blamed the `.rec`: "no image records", "record 0 header range …").
@Test func anIndexThatDoesNotFitItsRecordsIsNamed() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let rec = dir.appendingPathComponent("f.rec"), idx = dir.appendingPathComponent("f.idx")
    try RecordIODataset.write(SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8), rec: rec)
    let whole = try Fixtures.bytes(idx)
    let head = String(decoding: whole, as: UTF8.self).split(separator: "\n").prefix(5).joined(separator: "\n") + "\n"
    for cut in [[], Array(head.utf8), Array(whole.dropLast(3)), Array((head + "5\t").utf8)] {
        try cut.write(to: idx)
        let error = try #require(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
        #expect("\(error)".hasPrefix(idx.path) && "\(error)".contains("delete it and CrossRes scans f.rec instead"), "\(error)")
    }
    // A middle offset that misses its record (not checked at open: that would read every record)
    // names the index when the record is read.
    var lines = String(decoding: whole, as: UTF8.self).split(separator: "\n").map(String.init)
    let fields = lines[2].split(separator: "\t")
    lines[2] = "\(fields[0])\t\(Int(fields[1])! + 4)"
    try Array((lines.joined(separator: "\n") + "\n").utf8).write(to: idx)
    let misplaced = try #require(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
    #expect("\(misplaced)".contains("the index \(idx.path) gives: if the index does not fit the records, delete it"), "\(misplaced)")
    try FileManager.default.removeItem(at: idx)
    #expect(try RecordIODataset(rec: rec).count == 12)
}

/// Without header record 0 the identities are the largest label + 1: labels that are sparse
/// IDs, not class indices, are refused naming the counts (labels 0 and 500000000 crashed
/// training and `pack` allocating 5·10⁸ classes); labels with gaps below a million classes pass.
@Test func sparseLabelsWithoutAHeaderAreRefused() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let rec = dir.appendingPathComponent("s.rec")
    func write(_ labels: [Float]) throws {
        let writer = try RecordIOWriter(rec: rec, idx: dir.appendingPathComponent("s.idx"))
        for (key, label) in labels.enumerated() { try writer.write(key: key, payload: RecordIO.pack(RecordIO.Header(label: label), [1, 2, 3])) }
        try writer.finish()
    }
    try write([0, 0, 0, 500_000_000, 500_000_000, 500_000_000])
    let error = try #require(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
    #expect("\(error)".hasPrefix(rec.path) && "\(error)".contains("2 distinct labels, the largest 500000000, would make 500000001 classes for 6 images"), "\(error)")
    try write([0, 5_000, 95_000])   // a test set keeping person IDs below a million: evaluate reads it
    #expect(try RecordIODataset(rec: rec).identityCount == 95_001)
    // Beyond a million classes, refused once over half have no image.
    let sparse = [Int](repeating: 0, count: 39_999) + [1_999_999], half = Array(0..<1_000_001) + [2_000_000]
    #expect(throws: DatasetError.self) { try RecordIODataset.checkClassIndices(sparse, name: "sparse") }
    try RecordIODataset.checkClassIndices(half, name: "half")
}

/// A header record 0 whose image/identity range is not whole numbers the file can hold (NaN,
/// infinite, 10¹², fractional) is an error naming the file, not a trap or a huge allocation.
@Test func recordIOHeaderRangesOutsideTheFileAreErrors() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    for range: [Float] in [[.nan, 5], [2, .infinity], [1e12, 1e12 + 5], [1.5, 3], [3, 2]] {
        let rec = dir.appendingPathComponent("h.rec")
        let writer = try RecordIOWriter(rec: rec, idx: dir.appendingPathComponent("h.idx"))
        try writer.write(key: 0, payload: RecordIO.pack(RecordIO.Header(labels: range), []))
        try writer.write(key: 1, payload: RecordIO.pack(RecordIO.Header(label: 0), [1, 2, 3]))
        try writer.finish()
        let error = try #require(throws: DatasetError.self) { try RecordIODataset(rec: rec) }
        #expect("\(error)".contains(rec.path) && "\(error)".contains("not a valid image/identity layout"), "\(range): \(error)")
    }
}
