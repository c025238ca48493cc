import Foundation
import Synchronization

/// The watchdog of a process group's collectives, which MPI cannot cancel: the group marks
/// each blocking MPI call in flight (``watching(_:_:)``: two atomic stores of the packed
/// ``CollectiveCall`` and its start, and a read of the coarse monotonic clock — no lock,
/// allocation or system call), and one background thread per process sleeps until the call in flight would
/// pass the ``CollectiveTimeout``; when one has, the thread calls `expired` with a report, and
/// the group aborts the job.
final class CollectiveWatchdog: @unchecked Sendable {
    /// The ``CollectiveCall`` in flight, packed (valid while `started` is not 0).
    private let call = Atomic<UInt64>(0)
    /// The monotonic time (ns) the call in flight started; 0: none is.
    private let started = Atomic<UInt64>(0)
    // `limit`, `expired` and `thread` are only read or written while `condition` is held.
    private let condition = NSCondition()
    private var limit: CollectiveTimeout
    private var expired: (@Sendable (String) -> Never)?
    private var thread: Thread?

    init(timeout: CollectiveTimeout) {
        limit = timeout
    }

    /// The timeout; setting it wakes the thread, which then applies it to the call in flight.
    var timeout: CollectiveTimeout {
        get { condition.withLock { limit } }
        set {
            condition.withLock {
                limit = newValue
                startIfNeeded()
                condition.signal()
            }
        }
    }

    /// Starts watching (a group of several processes): from now on a call that passes the
    /// timeout calls `expired` with the report.
    func activate(expired: @escaping @Sendable (String) -> Never) {
        condition.withLock {
            self.expired = expired
            startIfNeeded()
        }
    }

    /// `body` (one blocking MPI call) marked as `call` in flight.
    @inline(__always)
    func watching<Result>(_ call: CollectiveCall, _ body: () throws -> Result) rethrows -> Result {
        self.call.store(call.packed, ordering: .relaxed)
        started.store(max(1, Self.now()), ordering: .releasing)
        defer { started.store(0, ordering: .releasing) }
        return try body()
    }

    /// Starts the thread once there is someone to report to and a timeout (`condition` held).
    private func startIfNeeded() {
        guard thread == nil, expired != nil, limit != .off else { return }
        let thread = Thread { [self] in watch() }
        thread.name = "CrossRes collective watchdog"
        thread.start()
        self.thread = thread
    }

    /// The thread: sleeps until the call in flight (or the next one) could pass the timeout,
    /// then checks it; at most a minute at a time, so a change of the wall clock (which
    /// `NSCondition` waits by) delays nothing for long.
    private func watch() {
        condition.lock()
        while true {
            let timeout = limit, nanoseconds = limit.nanoseconds
            guard nanoseconds > 0 else {
                condition.wait()
                continue
            }
            var remaining = nanoseconds
            if let (call, since) = inFlight() {
                let now = Self.now(), elapsed = now > since ? now - since : 0
                if elapsed >= nanoseconds, let expired {
                    condition.unlock()
                    expired(Self.report(call, waited: Double(elapsed) / 1e9, timeout: timeout))
                }
                remaining = nanoseconds - min(elapsed, nanoseconds)
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: min(60, Double(remaining) / 1e9 + 0.001)))
        }
    }

    /// The call in flight and its start, read consistently (the start is read again after the
    /// call: the same start means the same call).
    private func inFlight() -> (CollectiveCall, since: UInt64)? {
        while true {
            let since = started.load(ordering: .acquiring)
            guard since != 0 else { return nil }
            let packed = call.load(ordering: .relaxed)
            if started.load(ordering: .acquiring) == since { return (CollectiveCall(packed: packed), since) }
        }
    }

    /// What the watchdog prints (after `rank R of N: `) before the job is aborted.
    static func report(_ call: CollectiveCall, waited seconds: Double, timeout: CollectiveTimeout) -> String {
        String(format: "collective timeout: %@ has waited %.1f s for the other ranks, longer than the collective timeout of %@. ",
               call.description, seconds, timeout.description)
            + "Another rank failed, hung (a stuck file read, a deadlock) or took another branch and never entered this collective: "
            + "look at the other ranks' output for the cause. Aborting every rank. To wait longer, set \(CollectiveTimeout.variable)=<seconds> "
            + "(crossres; 0 or off: no timeout) or pass collectiveTimeout: to ProcessGroup.world."
    }

    /// The monotonic clock in nanoseconds: on Linux the coarse one (`CLOCK_MONOTONIC_COARSE`,
    /// a few milliseconds' resolution, read through the vDSO in about 5 ns against 27 ns for
    /// `CLOCK_MONOTONIC` on the test machine; no system call).
    @inline(__always)
    static func now() -> UInt64 {
        var time = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        #else
        clock_gettime(CLOCK_MONOTONIC, &time)
        #endif
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// One blocking MPI call of a ``ProcessGroup``: the MPI function and the elements this rank
/// passes, packed in one word (operation, element type, count) for the watchdog.
struct CollectiveCall: Equatable, CustomStringConvertible {
    enum Operation: UInt64 { case barrier = 1, allReduceSum, broadcast, allGather, allGatherV }
    enum Element: UInt64 { case none, float, byte, int64 }

    let operation: Operation
    let element: Element
    /// Elements this rank sends (`allGather`: per rank; `broadcast`: the root's).
    let count: Int

    init(_ operation: Operation, _ element: Element = .none, count: Int = 0) {
        self.operation = operation
        self.element = element
        self.count = count
    }

    /// MPI's name of the call.
    var name: String {
        switch operation {
        case .barrier: "MPI_Barrier"
        case .allReduceSum: "MPI_Allreduce"
        case .broadcast: "MPI_Bcast"
        case .allGather: "MPI_Allgather"
        case .allGatherV: "MPI_Allgatherv"
        }
    }

    /// The name and size, e.g. `MPI_Allreduce (sum) of 3 floats (12 bytes)`.
    var description: String {
        let (unit, bytes): (String, Int) = switch element {
        case .none: ("", 0)
        case .float: ("float", 4)
        case .byte: ("byte", 1)
        case .int64: ("int64", 8)
        }
        let size = element == .byte ? "\(count) byte\(count == 1 ? "" : "s")"
            : "\(count) \(unit)\(count == 1 ? "" : "s") (\(count * bytes) bytes)"
        switch operation {
        case .barrier: return name
        case .allReduceSum: return "\(name) (sum) of \(size)"
        case .broadcast: return "\(name) of \(size)"
        case .allGather: return "\(name) of \(size) per rank"
        case .allGatherV: return "\(name) of \(size) from this rank"
        }
    }

    /// Operation in the top byte, element in the next, count in the low 48 bits.
    var packed: UInt64 {
        operation.rawValue << 56 | element.rawValue << 48 | UInt64(truncatingIfNeeded: count) & 0xFFFF_FFFF_FFFF
    }

    init(packed: UInt64) {
        operation = Operation(rawValue: packed >> 56) ?? .barrier
        element = Element(rawValue: (packed >> 48) & 0xFF) ?? .none
        count = Int(packed & 0xFFFF_FFFF_FFFF)
    }
}
