import CBLAS

/// The one place that owns threading.
///
/// ``Parallel/threadCount`` (default: all cores, or the `CROSSRES_THREADS` environment
/// variable) is read by every kernel. OpenBLAS gets the same count for GEMMs issued from the
/// caller's thread, and is switched to one thread while a ``parallelFor(_:grain:_:)`` region
/// runs, so the two never oversubscribe the cores. One region runs at a time: a `parallelFor`
/// inside another, or started on another thread while one runs, runs serially on its caller.
public enum Parallel {
    /// Most pieces a ``parallelFor(_:grain:_:)`` region is cut into, per thread.
    public static let piecesPerThread = 4

    private static let configuredThreads = Locked<Int>(initialThreadCount())
    /// Regions running now. Entering and leaving change it and OpenBLAS's thread count under
    /// one lock, so a region that starts while another ends never runs with a multi-threaded
    /// OpenBLAS.
    private static let activeRegions = Locked<Int>(0)

    /// Number of threads kernels use (≥ 1). Setting it also sets OpenBLAS's thread count: at
    /// once, or, while a region runs (OpenBLAS is single-threaded then), when it ends.
    public static var threadCount: Int {
        get { configuredThreads.withLock { $0 } }
        set {
            precondition(newValue >= 1, "Parallel.threadCount must be at least 1, got \(newValue)")
            activeRegions.withLock { active in
                configuredThreads.withLock { $0 = newValue }
                if active == 0 { openblas_set_num_threads(Int32(newValue)) }
            }
        }
    }

    /// Ensures OpenBLAS uses ``threadCount`` threads outside regions; evaluated by the GEMM
    /// wrappers and before the first region, so that it never makes OpenBLAS multi-threaded
    /// inside one.
    static let blasConfigured: Bool = {
        activeRegions.withLock { active in
            if active == 0 { openblas_set_num_threads(Int32(threadCount)) }
        }
        return true
    }()

    private static func initialThreadCount() -> Int {
        if let text = getenv("CROSSRES_THREADS").map({ String(cString: $0) }), let n = Int(text), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Enters a parallel region unless one is already running somewhere in the process (then
    /// the caller runs serially and must not call ``exitRegion()``).
    static func enterRegion() -> Bool {
        _ = blasConfigured
        return activeRegions.withLock { active in
            guard active == 0 else { return false }
            active = 1
            openblas_set_num_threads(1)
            return true
        }
    }

    /// Leaves the region, giving OpenBLAS the thread count configured now (it may have been
    /// changed while the region ran).
    static func exitRegion() {
        activeRegions.withLock { active in
            active = 0
            openblas_set_num_threads(Int32(configuredThreads.withLock { $0 }))
        }
    }
}

/// Splits `0..<count` into contiguous pieces of at least `grain` iterations and runs `body` on
/// them, in parallel over ``Parallel/threadCount`` threads.
///
/// There are up to ``Parallel/piecesPerThread`` pieces per thread: each thread runs its own
/// share first and then takes what is left of the others', so that a thread that starts late
/// or runs slower (a core shared with another virtual machine) takes fewer. `body` must write only to memory that no other piece touches. Piece
/// boundaries depend only on `count`, `grain` and the thread count, so results are deterministic
/// for a fixed thread count; a kernel that keeps one partial result per thread passes the
/// thread count as `count`. Gradient and training modes are not visible on worker threads:
/// read them before.
public func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = Parallel.threadCount
    let pieces = min(threads &* Parallel.piecesPerThread, max(1, count / max(grain, 1)))
    if threads <= 1 || pieces <= 1 || !Parallel.enterRegion() {
        body(0..<count)
        return
    }
    defer { Parallel.exitRegion() }
    WorkerPool.shared.run(count: count, pieces: pieces, workers: threads &- 1, body)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
