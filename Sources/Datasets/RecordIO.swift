import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Tensor

/// MXNet RecordIO files (`.rec` + `.idx`), read and written without MXNet.
///
/// A record is `magic 0xced7230a` (little-endian `UInt32`), `lrecord` (`UInt32`: continuation
/// flag in the top 3 bits, length in the low 29), the payload, zero padding to 4 bytes. A
/// payload that contains the magic word at a 4-byte-aligned offset is split there into parts
/// (flags 1 = first, 2 = middle, 3 = last; 0 = whole record) and the magic is re-inserted
/// between parts on reading (dmlc-core `recordio.cc`). The `.idx` file has one `key\toffset`
/// line per record. Image payloads start with an `IRHeader` (`flag: UInt32, label: Float32,
/// id: UInt64, id2: UInt64`, 24 bytes); with `flag > 0`, `flag` more `Float32` labels follow
/// (`mx.recordio.pack`), then the encoded image.
public enum RecordIO {
    static let magic: UInt32 = 0xCED7_230A

    /// The header of an image record.
    public struct Header: Sendable, Equatable {
        public var flag: UInt32
        public var label: Float
        public var id: UInt64
        public var id2: UInt64
        /// The `flag` labels after the header (empty when `flag == 0`).
        public var labels: [Float]

        /// A header with one scalar label (`flag = 0`) or, when `labels` is not empty, a label
        /// array (`flag = labels.count`, `label = 0`), as `mx.recordio.pack` writes.
        public init(label: Float = 0, labels: [Float] = [], id: UInt64 = 0, id2: UInt64 = 0) {
            flag = UInt32(labels.count)
            self.label = labels.isEmpty ? label : 0
            self.id = id
            self.id2 = id2
            self.labels = labels
        }

        /// The class label: `labels[0]` when there is a label array, else `label`
        /// (insightface's convention).
        public var classLabel: Float { labels.first ?? label }
    }

    /// A payload = header + encoded image (`mx.recordio.pack`).
    public static func pack(_ header: Header, _ image: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(24 + 4 * header.labels.count + image.count)
        appendLE(&out, header.flag)
        appendLE(&out, header.label.bitPattern)
        appendLE(&out, header.id)
        appendLE(&out, header.id2)
        for l in header.labels { appendLE(&out, l.bitPattern) }
        out.append(contentsOf: image)
        return out
    }

    /// Splits a payload into header and the rest (`mx.recordio.unpack`).
    public static func unpack(_ payload: [UInt8], name: String) throws -> (header: Header, image: [UInt8]) {
        guard payload.count >= 24 else { throw DatasetError(name, "record of \(payload.count) bytes is shorter than the 24-byte IRHeader") }
        let flag = UInt32(readLE(payload, 0, 4))
        var header = Header(label: Float(bitPattern: UInt32(readLE(payload, 4, 4))), id: readLE(payload, 8, 8), id2: readLE(payload, 16, 8))
        header.flag = flag
        guard Int(flag) <= (payload.count - 24) / 4 else {
            throw DatasetError(name, "IRHeader flag \(flag) announces more labels than the \(payload.count)-byte record holds")
        }
        header.labels = (0..<Int(flag)).map { Float(bitPattern: UInt32(readLE(payload, 24 + 4 * $0, 4))) }
        return (header, Array(payload[(24 + 4 * Int(flag))...]))
    }

    static func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func readLE(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
        (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}

/// A read-only, memory-mapped `.rec` file with its `.idx` index. Reads are safe from any
/// thread (the mapping is never written).
public final class RecordIOFile: @unchecked Sendable {
    public let url: URL
    /// Record keys in index order, and the byte offset of each.
    public let keys: [Int]
    public let offsets: [Int: Int]
    /// The record-length limit reads are checked against.
    public let limits: ParserLimits
    private let base: UnsafeRawPointer?
    private let size: Int
    /// The index the offsets come from (`nil`: scanned).
    private let index: URL?

    /// Maps `rec` and reads `idx`; without an index, scans the file and numbers the records
    /// `0, 1, 2, …` in file order. A record longer than `limits.maximumRecordBytes` is an error.
    public init(rec: URL, idx: URL?, limits: ParserLimits = .standard) throws {
        url = rec
        self.limits = limits
        index = idx
        let fd = open(rec.path, O_RDONLY)
        guard fd >= 0 else { throw DatasetError(rec.path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DatasetError(rec.path, "cannot stat: \(String(cString: strerror(errno)))") }
        size = Int(info.st_size)
        if size > 0 {
            guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
                throw DatasetError(rec.path, "cannot map: \(String(cString: strerror(errno)))")
            }
            base = UnsafeRawPointer(mapped)
        } else {
            base = nil
        }
        // A throwing initialiser of a class does not run `deinit`: unmap here when the index
        // or the scan fails (found by fuzzing: every bad index leaked a mapping until `mmap`
        // itself failed).
        var keys: [Int] = [], offsets: [Int: Int] = [:]
        do {
            try Self.index(rec: rec, idx: idx, base: base, size: size, limits: limits, keys: &keys, offsets: &offsets)
        } catch {
            if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
            throw error
        }
        self.keys = keys
        self.offsets = offsets
    }

    /// Reads the `.idx` lines, or scans the records when there is no index.
    ///
    /// An index must fit its records: offsets inside the file, the first line's and the last
    /// record's starting a record, and the last record ending the file (cheap checks: the
    /// records are not all read here). One that does not (cut short by an interrupted copy,
    /// empty, or another file's) is an error naming the index; a record read later at an offset
    /// that misses names the index too (``record(key:)``).
    private static func index(rec: URL, idx: URL?, base: UnsafeRawPointer?, size: Int, limits: ParserLimits,
                              keys: inout [Int], offsets: inout [Int: Int]) throws {
        if let idx {
            let stale = "the index does not fit the records (cut short, or another file's): delete it and CrossRes scans \(rec.lastPathComponent) instead"
            let text = String(decoding: try readFile(idx), as: UTF8.self)
            for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
                let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
                guard fields.count == 2, let key = Int(fields[0]), let offset = Int(fields[1]), offset >= 0, offset < max(size, 1) else {
                    throw DatasetError(idx.path, "line \(n + 1) '\(line)' is not 'key<TAB>offset' inside the \(size)-byte .rec; \(stale)")
                }
                guard n > 0 || (base.map { size - offset >= 8 && $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian == RecordIO.magic } ?? false) else {
                    throw DatasetError(idx.path, "line \(n + 1): no record starts at byte \(offset) of \(rec.path); \(stale)")
                }
                guard offsets.updateValue(offset, forKey: key) == nil else { throw DatasetError(idx.path, "key \(key) appears twice") }
                keys.append(key)
            }
            // Read whole whatever its length: the limit applies when a record is read for use.
            let end = try offsets.values.max().map { last in
                do { return try readRecord(base: base, size: size, name: rec.path, limit: .max, at: last).next } catch let error as DatasetError {
                    throw DatasetError(idx.path, "the last record it lists (byte \(last)): \(error.message); \(stale)")
                }
            } ?? 0
            guard end == size else {
                throw DatasetError(idx.path, "lists \(keys.count) records, ending at byte \(end) of the \(size)-byte \(rec.path); \(stale)")
            }
        } else {
            var position = 0
            while position < size {
                offsets[keys.count] = position
                keys.append(keys.count)
                position = try readRecord(base: base, size: size, name: rec.path, limit: limits.maximumRecordBytes, at: position).next
            }
        }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Number of records.
    public var count: Int { keys.count }

    /// The payload of the record with `key`.
    public func record(key: Int) throws -> [UInt8] {
        guard let offset = offsets[key] else { throw DatasetError(url.path, "no record with key \(key)") }
        do { return try readRecord(at: offset).payload } catch let error as DatasetError where index != nil {
            throw DatasetError(error.source, "\(error.message) (record \(key), at the offset the index \(index!.path) gives: if the index does not fit the records, delete it and CrossRes scans them instead)")
        }
    }

    /// The (re-assembled) payload at byte `offset` and the offset of the next record.
    public func readRecord(at offset: Int) throws -> (payload: [UInt8], next: Int) {
        try Self.readRecord(base: base, size: size, name: url.path, limit: limits.maximumRecordBytes, at: offset)
    }

    private static func readRecord(base: UnsafeRawPointer?, size: Int, name: String, limit: Int, at offset: Int) throws -> (payload: [UInt8], next: Int) {
        var payload: [UInt8] = []
        var position = offset
        while true {
            guard let base, size - position >= 8 else { throw DatasetError(name, "truncated record header at byte \(position)") }
            let magic = base.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
            guard magic == RecordIO.magic else {
                throw DatasetError(name, "bad RecordIO magic 0x\(String(magic, radix: 16)) at byte \(position)")
            }
            let lrecord = base.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self).littleEndian
            let flag = lrecord >> 29, length = Int(lrecord & ((1 << 29) - 1))
            guard size - position - 8 >= length else {
                throw DatasetError(name, "record at byte \(position) claims \(length) bytes, file has \(size - position - 8) left")
            }
            guard payload.count + length + (flag == 0 || flag == 3 ? 0 : 4) <= limit else {
                throw DatasetError(name, "record at byte \(offset) is longer than the limit of \(limit) bytes")
            }
            payload.append(contentsOf: UnsafeRawBufferPointer(start: base + position + 8, count: length))
            position += 8 + (length + 3) / 4 * 4
            if flag == 0 || flag == 3 { break }
            guard flag == 1 || flag == 2 else { throw DatasetError(name, "bad continuation flag \(flag) at byte \(offset)") }
            RecordIO.appendLE(&payload, RecordIO.magic)
        }
        return (payload, min(position, size))
    }
}

/// Writes a `.rec`/`.idx` pair atomically: both go to hidden temporary files beside them
/// (`.NAME.<UUID>.tmp`) that ``finish()`` renames into place, so an interrupted writer leaves
/// no half-written data set and, when killed, nothing under a visible name. The writer holds an
/// exclusive `flock(2)` on its `.rec` temporary until it has renamed it, so that what a killed
/// writer left can be told from what a running one writes (``removeLeftovers(rec:idx:)``).
public final class RecordIOWriter {
    public let rec: URL, idx: URL
    private let temporaryRec: URL, temporaryIdx: URL
    /// The `.rec` temporary, open for writing and locked; closed once, by ``finish()`` or `deinit`.
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var index = ""
    private var position = 0
    private var finished = false

    /// The hidden temporary files an interrupted writer of `url` left beside it
    /// (`.NAME.<UUID>.tmp`; a writer at work has such a file too).
    public static func leftovers(of url: URL) -> [URL] { temporaries(of: url).map(\.url) }

    /// The writer's file for `url` with `tag` and `suffix`: `.NAME.<tag><suffix>` beside it.
    private static func temporary(of url: URL, tag: String, suffix: String = ".tmp") -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(tag)\(suffix)")
    }

    /// The writers' temporary files beside `url` (``temporary(of:tag:suffix:)`` with a UUID tag),
    /// with their tags, in name order.
    private static func temporaries(of url: URL) -> [(url: URL, tag: String)] {
        let folder = url.deletingLastPathComponent(), prefix = ".\(url.lastPathComponent).", suffix = ".tmp"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted().compactMap { name in
            guard name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count else { return nil }
            let tag = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            return UUID(uuidString: tag) == nil ? nil : (folder.appendingPathComponent(name), tag)
        }
    }

    /// What ``removeLeftovers(rec:idx:)`` did with the temporary files beside an output.
    public struct Leftovers {
        /// Removed: left by writers that no longer run, with their sizes in bytes.
        public var removed: [(url: URL, bytes: Int)] = []
        /// Kept: held by a running writer, or changed within ``RecordIOWriter/staleAge``.
        public var kept: [(url: URL, bytes: Int)] = []
    }

    /// How long a temporary must have gone unchanged before ``removeLeftovers(rec:idx:)`` removes
    /// it, even when its lock can be taken: a guard where `flock` guards only one machine (NFS
    /// mounted `nolock` or `local_lock=flock`, some FUSE and CIFS mounts), on which a running
    /// writer's lock is not seen from another (a writer adds to its file every 4 MiB).
    public static let staleAge: TimeInterval = 120

    /// Removes the hidden temporary files that killed writers of `rec` and `idx` left: a `.rec`
    /// temporary unchanged for ``staleAge`` whose lock can be taken has no running writer, and
    /// goes with its writer's index temporary; an index temporary without one and unchanged for
    /// ``staleAge`` goes too (a writer holds it only for the moment ``finish()`` renames the two).
    /// The rest are kept and listed.
    public static func removeLeftovers(rec: URL, idx: URL) -> Leftovers {
        var result = Leftovers()
        /// Removes `file` when `remove` succeeds on it, having been unchanged for ``staleAge``
        /// (`stale`: known already), and lists it; whether it was removed (`nil`: not there).
        @discardableResult
        func dispose(_ file: URL, stale: Bool = false, _ remove: (URL) -> Bool) -> Bool? {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path) else { return nil }
            let bytes = attributes[.size] as? Int ?? 0
            let changed = attributes[.modificationDate] as? Date ?? Date()
            let removed = (stale || Date().timeIntervalSince(changed) >= staleAge) && remove(file)
            if removed { result.removed.append((file, bytes)) } else { result.kept.append((file, bytes)) }
            return removed
        }
        var partners = Set<String>()
        for (data, tag) in temporaries(of: rec) where dispose(data, removeUnlocked) == true {
            let partner = temporary(of: idx, tag: tag)  // (its writer's index, if it got that far)
            if dispose(partner, stale: true, { unlink($0.path) == 0 }) != nil { partners.insert(partner.lastPathComponent) }
        }
        for (index, _) in temporaries(of: idx) where !partners.contains(index.lastPathComponent) {
            dispose(index) { unlink($0.path) == 0 }
        }
        return result
    }

    /// Removes `temporary` when no process holds its lock (taken while it is removed); `false`
    /// when one does, or it cannot be opened or locked. (On NFS, whose `flock` is a per-process
    /// POSIX lock, closing this descriptor would drop a lock this process's own writer holds:
    /// ``removeLeftovers(rec:idx:)`` runs before this process writes the output.)
    private static func removeUnlocked(_ temporary: URL) -> Bool {
        let descriptor = open(temporary.path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) == 0 && unlink(temporary.path) == 0
    }

    public init(rec: URL, idx: URL) throws {
        self.rec = rec
        self.idx = idx
        let tag = UUID().uuidString
        temporaryRec = Self.temporary(of: rec, tag: tag)
        temporaryIdx = Self.temporary(of: idx, tag: tag)
        // Created and locked under a name no leftover search matches, then given its own: never
        // found unlocked by another writer's ``removeLeftovers(rec:idx:)``.
        let unnamed = Self.temporary(of: rec, tag: tag, suffix: ".new")
        // (Set only on success: a throwing initialiser of a fully set-up object runs `deinit`.)
        let created = open(unnamed.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard created >= 0 else {
            throw DatasetError(rec.path, "cannot create \(unnamed.path): \(String(cString: strerror(errno)))")
        }
        // (A file system without locks: unguarded, but for ``staleAge``.)
        guard flock(created, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK, rename(unnamed.path, temporaryRec.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(unnamed.path)
            close(created)
            throw DatasetError(rec.path, "cannot create \(temporaryRec.path): \(reason)")
        }
        descriptor = created
    }

    deinit {
        if !finished {
            unlink(temporaryRec.path)
            unlink(temporaryIdx.path)
            close(descriptor)
        }
    }

    /// Appends a record with `key` (split around embedded magic words like dmlc-core does).
    public func write(key: Int, payload: [UInt8]) throws {
        precondition(!finished, "RecordIOWriter.write: the writer is finished")
        guard payload.count < 1 << 29 else { throw DatasetError(rec.path, "record \(key) of \(payload.count) bytes exceeds the 2^29-byte RecordIO limit") }
        index += "\(key)\t\(position)\n"
        var start = 0
        var i = 0
        while i + 4 <= payload.count {
            if RecordIO.readLE(payload, i, 4) == UInt64(RecordIO.magic) {
                part(flag: start == 0 ? 1 : 2, payload[start..<i])
                start = i + 4
            }
            i += 4
        }
        part(flag: start == 0 ? 0 : 3, payload[start...])
        if buffer.count >= 1 << 22 { try flush() }
    }

    private func part(flag: UInt32, _ bytes: ArraySlice<UInt8>) {
        RecordIO.appendLE(&buffer, RecordIO.magic)
        RecordIO.appendLE(&buffer, flag << 29 | UInt32(bytes.count))
        buffer.append(contentsOf: bytes)
        let padding = (4 - bytes.count % 4) % 4
        buffer.append(contentsOf: repeatElement(0, count: padding))
        position += 8 + bytes.count + padding
    }

    private func flush() throws {
        try Self.writeAll(buffer, to: descriptor, name: rec.path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes the index to its temporary file (itself the atomic step's temporary: no further
    /// temporary of Foundation's that a killed writer could leave), synchronised to disk.
    private func writeIndex() throws {
        let file = open(temporaryIdx.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard file >= 0 else { throw DatasetError(idx.path, "cannot create \(temporaryIdx.path): \(String(cString: strerror(errno)))") }
        defer { close(file) }
        try Self.writeAll(Array(index.utf8), to: file, name: idx.path)
        guard fsync(file) == 0 || errno == EINVAL else { throw DatasetError(idx.path, "cannot write: \(String(cString: strerror(errno)))") }
    }

    /// `write(2)` of all of `bytes`, retried after interruptions.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, name: String) throws {
        try bytes.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = systemWrite(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw DatasetError(name, "cannot write: \(written == 0 ? "no byte written" : String(cString: strerror(errno)))")
                }
                done += written
            }
        }
    }

    /// Flushes the data to disk (`fsync`: a file system that reports write errors late reports
    /// them here, before anything replaces the user's files), renames both files into place and
    /// closes the data (holding its lock until then).
    public func finish() throws {
        precondition(!finished, "RecordIOWriter.finish: already finished")
        try flush()
        guard fsync(descriptor) == 0 || errno == EINVAL else {  // (EINVAL: a file that cannot be synchronised)
            throw DatasetError(rec.path, "cannot write: \(String(cString: strerror(errno)))")
        }
        try writeIndex()
        for (from, to) in [(temporaryRec, rec), (temporaryIdx, idx)] {
            guard rename(from.path, to.path) == 0 else {
                throw DatasetError(to.path, "cannot rename \(from.path) into place: \(String(cString: strerror(errno)))")
            }
        }
        finished = true
        close(descriptor)  // (its data is on disk: a late error of close has nothing left to lose)
    }
}

/// `write(2)`, which ``RecordIOWriter/write(key:payload:)`` hides inside the writer.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
