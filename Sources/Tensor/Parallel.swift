import CBLAS

/// The one place that owns threading.
///
/// ``Parallel/threadCount`` (default: all cores, or the `CROSSRES_THREADS` environment
/// variable) is read by every kernel. OpenBLAS gets the same count for calls issued outside
/// ``parallelFor(_:grain:_:)`` regions and is switched to one thread while a region runs, so
/// the two never oversubscribe the cores.
///
/// One region runs at a time, and no OpenBLAS call runs with OpenBLAS's own threads while it
/// does: a region, and an OpenBLAS call from outside any region (``withBLAS(_:)``), each hold
/// one process-wide lock, so a caller on another thread waits for the running one to end. A
/// `parallelFor` inside a region (from its body) runs serially on its caller. Every result is
/// therefore computed the same way whatever else the process runs at the time: OpenBLAS's
/// single- and multi-threaded GEMM drivers cut the depth into different blocks (for example
/// `K = 500` on its SkylakeX kernels), so a GEMM run single-threaded because another thread's
/// region happened to be running differed in the last bits (and so did the serial fallback
/// that replaced waiting before session 12).
public enum Parallel {
    /// Most pieces a ``parallelFor(_:grain:_:)`` region is cut into, per thread.
    public static let piecesPerThread = 4

    /// The pieces ``parallelFor(_:grain:_:)`` cuts `0..<count` into for `threads` threads, in
    /// order: `0..<count` in one equal run per thread (fewer when a run would be shorter than
    /// `grain`), each run in up to ``piecesPerThread`` pieces that halve in size (½, ¼, …, the
    /// last two equal) while the smallest keeps at least `grain` iterations.
    public static func pieces(count: Int, grain: Int = 1, threads: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        let layout = PieceLayout(count: count, grain: grain, threads: Swift.max(1, threads))
        return (0..<layout.pieces).map(layout.range)
    }

    private static let configuredThreads = Locked<Int>(initialThreadCount())
    /// Held by the thread that runs a region or an OpenBLAS call outside regions.
    private static let exclusive = NSLock()
    /// Per thread: set while it runs inside a region (the region's caller, and the workers,
    /// which run nothing else) or inside ``withBLAS(_:)``: calls from there run as they are.
    private static let insideKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "Parallel: no thread-specific key left")
        return key
    }()

    /// Whether the calling thread runs inside a region (or a ``withBLAS(_:)`` call).
    static var isInsideRegion: Bool { pthread_getspecific(insideKey) != nil }

    static func markInsideRegion(_ inside: Bool) {
        pthread_setspecific(insideKey, inside ? UnsafeRawPointer(bitPattern: 1) : nil)
    }

    /// Number of threads kernels use (1 to ``maximumThreadCount``). Setting it also sets
    /// OpenBLAS's thread count, once the running region or OpenBLAS call ends (setting it waits
    /// for that; from inside a region, the region's end applies it).
    public static var threadCount: Int {
        get { configuredThreads.withLock { $0 } }
        set {
            precondition((1...maximumThreadCount).contains(newValue), "Parallel.threadCount must be in 1...\(maximumThreadCount), got \(newValue)")
            configuredThreads.withLock { $0 = newValue }
            // Inside a region its end applies the new count (waiting for the lock would never end).
            guard !isInsideRegion else { return }
            // The value configured now, not `newValue`: a region's end may have applied a later one.
            exclusive.withLock(applyConfiguredThreads)
        }
    }

    /// Ensures OpenBLAS runs on its best core (``BLASCore``) and uses ``threadCount`` threads
    /// outside regions; evaluated by ``withBLAS(_:)`` and by ``enterRegion()`` before it takes
    /// the lock (so no thread holding the lock ever waits for this initialiser).
    static let blasConfigured: Bool = {
        _ = BLASCore.reselection
        exclusive.withLock(applyConfiguredThreads)
        return true
    }()

    /// Gives OpenBLAS the configured thread count; the caller holds the region lock.
    private static func applyConfiguredThreads() {
        openblas_set_num_threads(Int32(configuredThreads.withLock { $0 }))
    }

    /// Runs an OpenBLAS or LAPACK call: inside a region as it is (OpenBLAS is single-threaded
    /// there), outside regions holding the region lock, so that OpenBLAS runs it with
    /// ``threadCount`` threads whatever other threads do (waiting for a running region to end).
    /// Calls the closure makes in turn (GEMMs, `parallelFor`) run as they are, serially.
    @inline(__always)
    public static func withBLAS<R>(_ call: () throws -> R) rethrows -> R {
        _ = blasConfigured
        if isInsideRegion { return try call() }
        exclusive.lock()
        markInsideRegion(true)
        defer {
            markInsideRegion(false)
            exclusive.unlock()
        }
        return try call()
    }

    private static func initialThreadCount() -> Int {
        if let text = getenv("CROSSRES_THREADS").map({ String(cString: $0) }), let n = threadCount(environmentValue: text) { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Most threads ``threadCount`` may be: 256, or the cores when there are more (each is a
    /// worker thread: 100 000 started more than ten thousand threads before any work).
    public static let maximumThreadCount = max(256, ProcessInfo.processInfo.activeProcessorCount)

    /// The count a `CROSSRES_THREADS` value sets: a whole number in `1...maximumThreadCount`,
    /// else `nil`, and the default (all cores) stays (`crossres` refuses such a value, except an
    /// empty one, which means unset as it does for OpenMP and OpenBLAS).
    public static func threadCount(environmentValue text: String) -> Int? {
        guard let n = Int(text), (1...maximumThreadCount).contains(n) else { return nil }
        return n
    }

    /// Enters a parallel region, waiting while another thread runs one (or an OpenBLAS call
    /// outside regions); the caller must not be inside a region already.
    static func enterRegion() {
        _ = blasConfigured
        exclusive.lock()
        markInsideRegion(true)
        openblas_set_num_threads(1)
    }

    /// Leaves the region, giving OpenBLAS the thread count configured now (it may have been
    /// changed while the region ran).
    static func exitRegion() {
        applyConfiguredThreads()
        markInsideRegion(false)
        exclusive.unlock()
    }
}

/// Splits `0..<count` into contiguous pieces of at least `grain` iterations and runs `body` on
/// them, in parallel over ``Parallel/threadCount`` threads.
///
/// The pieces are ``Parallel/pieces(count:grain:threads:)``: one run of pieces per thread, whose
/// sizes halve along the run. Each thread runs its own run first and then takes what is left of
/// the others', which are their small last pieces: a thread that starts late or runs slower (a
/// core shared with another virtual machine) does less, and the region ends within a small
/// piece of its work. `body` must write only to memory that no other piece touches. Piece
/// boundaries depend only on `count`, `grain` and the thread count, so results are deterministic
/// for a fixed thread count (a call from inside a running region runs the same pieces, one
/// after the other, on its caller); a kernel that keeps one partial result per thread passes the
/// thread count as `count`. Gradient and training modes are not visible on worker threads:
/// read them before.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = Parallel.threadCount
    let layout = PieceLayout(count: count, grain: grain, threads: threads)
    if threads <= 1 || layout.pieces <= 1 {
        body(0..<count)
        return
    }
    if Parallel.isInsideRegion {
        // Nested: serially, but piece by piece, so that a kernel whose blocks follow the pieces
        // computes what it computes in a region of its own, to the bit.
        for piece in 0..<layout.pieces { body(layout.range(piece)) }
        return
    }
    Parallel.enterRegion()
    defer { Parallel.exitRegion() }
    WorkerPool.shared.run(layout, workers: threads &- 1, body)
}

/// How a region cuts `0..<count`: into `runs` equal runs (one per participating thread, each
/// at least one grain), each run into `perRun` pieces whose sizes halve — ½, ¼, …, and the
/// last two equal — with the smallest still at least one grain.
struct PieceLayout {
    let count: Int
    let runs: Int
    let perRun: Int

    init(count: Int, grain: Int, threads: Int) {
        self.count = count
        let grains = Swift.max(1, count / Swift.max(grain, 1))
        runs = Swift.max(1, Swift.min(threads, grains))
        // k pieces leave the smallest at 1/2^(k−1) of the run.
        var k = 1
        while k < Parallel.piecesPerThread && (grains / runs) >> k >= 1 { k &+= 1 }
        perRun = k
    }

    var pieces: Int { runs &* perRun }

    /// Piece `piece`: the `piece mod perRun`-th of run `piece / perRun`.
    @inline(__always)
    func range(_ piece: Int) -> Range<Int> {
        let run = piece / perRun, j = piece % perRun
        let start = count &* run / runs, end = count &* (run &+ 1) / runs, length = end &- start
        let lower = j == 0 ? start : end &- (length >> j)
        let upper = j == perRun &- 1 ? end : end &- (length >> (j &+ 1))
        return lower..<upper
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
