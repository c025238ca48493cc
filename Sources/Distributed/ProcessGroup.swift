import Foundation
import CMPI
import Tensor
import Training

/// The processes of a data-parallel run: MPI's world communicator (Open MPI), with the
/// collectives training needs — barrier, broadcast from rank 0, sum all-reduce and all-gather.
///
/// MPI is initialised once per process, on first use of ``world(collectiveTimeout:)`` (`MPI_Init_thread`
/// asking for `MPI_THREAD_MULTIPLE`, at least `MPI_THREAD_SERIALIZED` required; the group's calls
/// are serialised by a lock, so any thread may call), and shut
/// down by ``finalize()``, which a program must call before it exits normally (`mpirun`
/// reports a rank that exits without it). A program started without `mpirun` is a world of
/// one process (MPI's singleton start-up).
///
/// The error handler is `MPI_ERRORS_RETURN`: a failing call throws ``DistributedError/mpi(call:code:message:)``
/// with MPI's error string instead of aborting the job. A rank that stops with an error
/// should call ``abort(_:code:)``, which ends every rank instead of leaving them waiting in
/// a collective.
///
/// Every collective has a timeout (``CollectiveTimeout``, default 30 minutes): MPI calls
/// cannot be cancelled, so a watchdog thread notices a collective that has waited longer for
/// the other ranks, prints which one on standard error and aborts the job like ``abort(_:code:)``
/// — from its own thread while the main thread is blocked in the call, which MPI allows only
/// under `MPI_THREAD_MULTIPLE` (Open MPI provides it). With an MPI library that provides less,
/// the watchdog ends its own process instead (`_exit`), and the launcher (`mpirun`) ends the
/// job when it sees a rank exit with an error.
public final class ProcessGroup: Sendable {
    /// This process's index, `0..<size`; rank 0 logs and writes checkpoints.
    public let rank: Int
    /// Number of processes.
    public let size: Int
    /// Whether MPI was shut down.
    private let state = Locked(false)
    /// Times each blocking MPI call (started in a group of several processes).
    private let watchdog = CollectiveWatchdog(timeout: .standard)

    /// Whether this is rank 0.
    public var isRoot: Bool { rank == 0 }

    private static let shared = Result { () throws(DistributedError) in try ProcessGroup() }

    /// The world of all processes of this job (initialises MPI on first use), whose
    /// collectives abort the job after waiting `collectiveTimeout` for the other ranks
    /// (`nil`: as set before, by default ``CollectiveTimeout/standard``, 30 minutes).
    public static func world(collectiveTimeout: CollectiveTimeout? = nil) throws -> ProcessGroup {
        let group = try shared.get()
        if let collectiveTimeout { group.watchdog.timeout = collectiveTimeout }
        return group
    }

    /// How long a collective may wait for the other ranks before the job is aborted.
    public var collectiveTimeout: CollectiveTimeout { watchdog.timeout }

    private init() throws(DistributedError) {
        var initialised: Int32 = 0, provided: Int32 = 0
        try Self.check(MPI_Initialized(&initialised), "MPI_Initialized")
        if initialised == 0 {
            try Self.check(MPI_Init_thread(nil, nil, Int32(MPI_THREAD_MULTIPLE), &provided), "MPI_Init_thread")
            guard provided >= Int32(MPI_THREAD_SERIALIZED) else {
                throw .mpi(call: "MPI_Init_thread", code: provided, message: "this MPI library does not support MPI_THREAD_SERIALIZED")
            }
        } else {
            // Initialised by the program: the group serialises its own calls, so any level serves
            // them; only the watchdog's way out depends on it.
            try Self.check(MPI_Query_thread(&provided), "MPI_Query_thread")
        }
        try Self.check(MPI_Comm_set_errhandler(crossres_mpi_comm_world(), crossres_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(MPI_Comm_rank(crossres_mpi_comm_world(), &rank), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(crossres_mpi_comm_world(), &size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
        // A world of one has nobody to wait for.
        if size > 1 {
            let abortsFromAnyThread = provided >= Int32(MPI_THREAD_MULTIPLE)
            watchdog.activate { [self] report in
                guard abortsFromAnyThread else { exitAlone(report) }
                abort(report)
            }
        }
    }

    // MARK: - Collectives

    /// Blocks until every rank has called it.
    public func barrier() throws {
        try serialised(CollectiveCall(.barrier)) { MPI_Barrier(crossres_mpi_comm_world()) }
    }

    /// Replaces `buffer` on every rank by the elementwise sum over ranks (in place).
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try forChunks(of: buffer.count) { offset, count in
            try serialised(CollectiveCall(.allReduceSum, .float, count: Int(count))) {
                MPI_Allreduce(crossres_mpi_in_place(), buffer.baseAddress! + offset, count, crossres_mpi_float(),
                              crossres_mpi_sum(), crossres_mpi_comm_world())
            }
        }
    }

    /// Overwrites `buffer` on every rank with rank `root`'s (same count on every rank).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws {
        try forChunks(of: buffer.count) { offset, count in
            try serialised(CollectiveCall(.broadcast, .float, count: Int(count))) {
                MPI_Bcast(buffer.baseAddress! + offset, count, crossres_mpi_float(), Int32(truncatingIfNeeded: root), crossres_mpi_comm_world())
            }
        }
    }

    /// Rank 0's bytes, on every rank (other ranks' `bytes` are ignored).
    public func broadcast(bytes: [UInt8]) throws -> [UInt8] {
        var count = [Int64(bytes.count)]
        try count.withUnsafeMutableBufferPointer { buffer in
            try serialised(CollectiveCall(.broadcast, .int64, count: 1)) { MPI_Bcast(buffer.baseAddress, 1, crossres_mpi_int64(), 0, crossres_mpi_comm_world()) }
        }
        var result = isRoot ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try result.withUnsafeMutableBufferPointer { buffer in
            try forChunks(of: buffer.count) { offset, chunk in
                try serialised(CollectiveCall(.broadcast, .byte, count: Int(chunk))) {
                    MPI_Bcast(buffer.baseAddress! + offset, chunk, crossres_mpi_byte(), 0, crossres_mpi_comm_world())
                }
            }
        }
        return result
    }

    /// Rank 0's tensors, on every rank: names and shapes travel first (other ranks' `tensors`
    /// are ignored), then every value in one flat buffer in name order.
    public func broadcast(_ tensors: [String: Tensor]) throws -> [String: Tensor] {
        let names = tensors.keys.sorted()
        let layout = try JSONEncoder().encode(names.map { TensorLayout(name: $0, shape: tensors[$0]!.shape) })
        let received = try JSONDecoder().decode([TensorLayout].self, from: Data(try broadcast(bytes: Array(layout))))
        let total = received.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let flat = TensorStorage(count: total)
        if isRoot {
            var offset = 0
            for name in names {
                tensors[name]!.withUnsafeBufferPointer { source in
                    (flat.base + offset).update(from: source.baseAddress!, count: source.count)
                    offset += source.count
                }
            }
        }
        try withExtendedLifetime(flat) { try broadcast(UnsafeMutableBufferPointer(start: flat.base, count: total)) }
        if isRoot { return tensors }
        var result: [String: Tensor] = [:], offset = 0
        for entry in received {
            let count = entry.shape.reduce(1, *)
            result[entry.name] = Tensor(shape: entry.shape) { $0.baseAddress!.update(from: flat.base + offset, count: count) }
            offset += count
        }
        return result
    }

    /// Rank 0's tensor, on every rank.
    public func broadcast(_ tensor: Tensor) throws -> Tensor {
        try broadcast(["tensor": tensor])["tensor"]!
    }

    /// The rows of every rank's `[n_r, …]` tensor concatenated in rank order (`[Σ n_r, …]`) on
    /// every rank — e.g. evaluation embeddings computed on shards. Row counts may differ; the
    /// trailing shape must not.
    public func allGather(_ tensor: Tensor) throws -> Tensor {
        precondition(tensor.rank >= 1, "allGather: needs a tensor with a row axis, got shape \(tensor.shape)")
        let rowShape = Array(tensor.shape.dropFirst())
        let rowCount = rowShape.reduce(1, *)
        let shapes = try allGather(values: [Int64(tensor.shape[0]), Int64(rowShape.count)] + rowShape.map(Int64.init), width: 2 + rowShape.count)
        for (r, shape) in shapes.enumerated() where Array(shape.dropFirst()) != [Int64(rowShape.count)] + rowShape.map(Int64.init) {
            throw DistributedError.inconsistent("allGather: rank \(r) has rows of shape \(shape.dropFirst(2).map { Int($0) }), rank \(rank) \(rowShape)")
        }
        let counts = shapes.map { Int32(Int($0[0]) * rowCount) }
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<size { displacements[r] = displacements[r - 1] + counts[r - 1] }
        let total = counts.reduce(0) { $0 + Int($1) }
        let rows = total / max(rowCount, 1)
        let gathered = TensorStorage(count: total)
        try tensor.withUnsafeBufferPointer { local in
            try serialised(CollectiveCall(.allGatherV, .float, count: local.count)) {
                MPI_Allgatherv(UnsafeMutableRawPointer(mutating: local.baseAddress), Int32(local.count), crossres_mpi_float(),
                               gathered.base, counts, displacements, crossres_mpi_float(), crossres_mpi_comm_world())
            }
        }
        return Tensor(shape: [rows] + rowShape, storage: gathered)
    }

    /// Every rank's `values` (`width` each), in rank order.
    func allGather(values: [Int64], width: Int) throws -> [[Int64]] {
        precondition(values.count == width, "allGather: \(values.count) values, width \(width)")
        var all = [Int64](repeating: 0, count: width * size)
        try all.withUnsafeMutableBufferPointer { output in
            try serialised(CollectiveCall(.allGather, .int64, count: width)) {
                MPI_Allgather(values, Int32(width), crossres_mpi_int64(), output.baseAddress, Int32(width), crossres_mpi_int64(),
                              crossres_mpi_comm_world())
            }
        }
        return (0..<size).map { Array(all[($0 * width)..<(($0 + 1) * width)]) }
    }

    /// Checks that every rank runs the same configuration: the ranks exchange the hash of their
    /// `text` (for example the run's settings as canonical JSON), and if any differs from rank
    /// 0's, every rank throws ``DistributedError/configurationMismatch(ranks:detail:)``
    /// naming the differing ranks — nobody is left waiting.
    public func ensureSameConfiguration(_ text: String) throws {
        let hashes = try allGather(values: [Int64(bitPattern: Self.fingerprint(text))], width: 1).map { UInt64(bitPattern: $0[0]) }
        let differing = hashes.indices.filter { hashes[$0] != hashes[0] }
        guard differing.isEmpty else {
            let detail = ([0] + differing).map { String(format: "rank %d: %016llx", $0, hashes[$0]) }.joined(separator: ", ")
            throw DistributedError.configurationMismatch(ranks: differing, detail: "settings hashes \(detail)")
        }
    }

    /// CRC-64/XZ of the UTF-8 bytes (the checkpoint checksum's CRC): the same on every process
    /// (Swift's `Hasher` is seeded per process).
    static func fingerprint(_ text: String) -> UInt64 {
        var crc = CRC64()
        crc.update(bytes: text.utf8)
        return crc.value
    }

    // MARK: - Shut-down

    /// Ends every rank of the job (`MPI_Abort`) after printing `message` to standard error:
    /// what a rank that cannot continue must do, so no other rank hangs in a collective. It
    /// does not wait for the group's lock: from a second thread while another is blocked in a
    /// collective, MPI allows it under `MPI_THREAD_MULTIPLE` only (Open MPI provides it).
    /// With a `grace` (seconds), a rank other than 0 first waits that long for rank 0 to end the
    /// job: an error every rank stops on together reaches rank 0 too, which may still be putting
    /// the run's folder in order (an earlier output back in place) — an abort from here would cut
    /// that short. A rank failing alone ends the job after the grace.
    public func abort(_ message: String, code: Int32 = 1, grace: Double = 0) -> Never {
        say(message)
        if !isRoot && grace > 0 { Thread.sleep(forTimeInterval: grace) }
        MPI_Abort(crossres_mpi_comm_world(), code)
        exit(code)
    }

    /// Ends this process alone after printing `message` to standard error, without calling MPI
    /// (the collective timeout's way out when MPI does not allow a second thread to call it
    /// while the first is blocked in a collective): the launcher ends the others.
    private func exitAlone(_ message: String, code: Int32 = 1) -> Never {
        say(message)
        _exit(code)
    }

    /// Writes `rank R of N: message` to standard error.
    private func say(_ message: String) {
        FileHandle.standardError.write(Data("rank \(rank) of \(size): \(message)\n".utf8))
    }

    /// Shuts MPI down (`MPI_Finalize`); later collectives throw. Call once, before exit. Not
    /// under the collective timeout: ranks that are done wait here for rank 0's last writes.
    public func finalize() throws {
        try state.withLock { finalized throws in
            guard !finalized else { return }
            try Self.check(MPI_Finalize(), "MPI_Finalize")
            finalized = true
        }
    }

    // MARK: - Helpers

    /// Runs one MPI call under the lock and the watchdog, turning its error code into a thrown error.
    private func serialised(_ call: CollectiveCall, _ body: () -> Int32) throws {
        try state.withLock { finalized throws in
            guard !finalized else { throw DistributedError.mpi(call: call.name, code: -1, message: "called after ProcessGroup.finalize()") }
            try Self.check(watchdog.watching(call, body), call.name)
        }
    }

    /// Splits `count` elements into MPI-sized (`Int32`) chunks.
    private func forChunks(of count: Int, _ body: (Int, Int32) throws -> Void) throws {
        let chunk = 1 << 30
        for offset in stride(from: 0, to: count, by: chunk) { try body(offset, Int32(min(chunk, count - offset))) }
    }

    static func check(_ code: Int32, _ call: String) throws(DistributedError) {
        guard code != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        _ = MPI_Error_string(code, &text, &length)
        throw .mpi(call: call, code: code, message: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

/// A name and a shape, broadcast ahead of tensor values.
private struct TensorLayout: Codable {
    let name: String
    let shape: [Int]
}
