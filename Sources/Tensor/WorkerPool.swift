import Dispatch
import Foundation
import Synchronization

/// The threads that run a ``parallelFor(_:grain:_:)`` region's pieces besides its caller.
///
/// A region is published by bumping a generation counter. A worker that finished a region
/// less than ``spinTime`` ago is still polling that counter and joins within a microsecond or
/// so; one that has been idle longer sleeps on a semaphore and is woken. (libdispatch's
/// `concurrentPerform`, used before, woke a sleeping thread for every region: it joined 20–50 µs
/// late, and with one chunk per thread the caller then waited for it, and for the slower of the
/// two vCPUs: 10–15 % of a W5b step.) Every piece is the same range whichever thread runs it;
/// see ``Region`` for who runs which.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker polls for the next region before it sleeps. Training steps
    /// issue a region every few hundred microseconds; a program that stops issuing them gets
    /// its core back after this long.
    static let spinTime: UInt64 = 2_000_000

    /// One region: the pieces of `layout` over the caller (participant 0) and at most `workers`
    /// workers (participants 1…). Participant `t` owns run `t` of the layout and runs its pieces
    /// first, in order (largest first), so that consecutive regions over the same batch find
    /// their data in the same core's cache; then it takes the pieces still left in the other
    /// participants' runs, which are their smallest.
    final class Region: @unchecked Sendable {
        let id: Int
        let layout: PieceLayout
        /// Workers the thread count asks for (`threadCount − 1`)…
        let workers: Int
        /// …of which the first `participants − 1` have a run (fewer with few pieces).
        let participants: Int
        /// The region's body, on the caller's stack: only read for a piece that is not done, so
        /// while the caller is still waiting.
        let body: UnsafePointer<(Range<Int>) -> Void>
        /// Per participant, the next piece of its run.
        private let next: UnsafeMutablePointer<Atomic<Int>>
        let done = Atomic<Int>(0)

        init(id: Int, layout: PieceLayout, workers: Int, body: UnsafePointer<(Range<Int>) -> Void>) {
            self.id = id
            self.layout = layout
            self.workers = workers
            participants = layout.runs
            self.body = body
            next = .allocate(capacity: participants)
            for t in 0..<participants { (next + t).initialize(to: Atomic(layout.perRun * t)) }
        }

        deinit {
            next.deinitialize(count: participants)
            next.deallocate()
        }

        /// Runs participant `t`'s own pieces, then any left in the others' runs.
        func runPieces(participant t: Int) {
            guard t < participants else { return }
            for step in 0..<participants {
                let owner = (t &+ step) % participants, end = layout.perRun * (owner &+ 1)
                while true {
                    let piece = next[owner].add(1, ordering: .relaxed).oldValue
                    guard piece < end else { break }
                    body.pointee(layout.range(piece))
                    done.add(1, ordering: .releasing)
                }
            }
        }
    }

    private let generation = Atomic<Int>(0)
    private let current = Locked<Region?>(nil)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// Workers started so far (they never exit).
    private let started = Locked<Int>(0)

    /// Runs `body` on the pieces of `layout` over the caller and `workers` workers; returns when
    /// all are done. One region at a time (``Parallel`` enforces it).
    func run(_ layout: PieceLayout, workers: Int, _ body: (Range<Int>) -> Void) {
        startWorkers(workers)
        let pieces = layout.pieces
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { pointer in
                let region = Region(id: generation.load(ordering: .relaxed) &+ 1, layout: layout, workers: workers, body: pointer)
                current.withLock { $0 = region }
                generation.store(region.id, ordering: .sequentiallyConsistent)
                for _ in 0..<sleepers.load(ordering: .sequentiallyConsistent) { wake.signal() }
                region.runPieces(participant: 0)
                var polls = 0
                while region.done.load(ordering: .acquiring) < pieces {
                    polls &+= 1
                    if polls > 64 { sched_yield() }
                }
            }
        }
    }

    private func startWorkers(_ count: Int) {
        started.withLock { started in
            while started < count {
                let index = started
                let thread = Thread { [self] in work(index: index) }
                thread.name = "crossres-worker-\(index + 1)"
                thread.stackSize = 8 << 20
                thread.start()
                started &+= 1
            }
        }
    }

    /// A worker's life: wait for a region newer than the last one seen, join it if it asks for
    /// this many workers, repeat. A worker beyond the thread count (it was lowered) sleeps
    /// without polling, so that it leaves the cores alone.
    private func work(index: Int) {
        Parallel.markInsideRegion(true)  // a worker runs nothing but regions' pieces
        var seen = 0, wanted = true
        while true {
            waitForRegion(after: seen, polling: wanted)
            guard let region = current.withLock({ $0 }) else { continue }
            seen = region.id
            wanted = index < region.workers
            region.runPieces(participant: index &+ 1)
        }
    }

    /// Returns once the generation differs from `seen`: polling for up to ``spinTime`` when
    /// `polling`, then asleep. Every poll yields the core, to any other runnable thread (and
    /// as a pause: fewer processes ran slow than with a bare load loop yielding every 256th).
    private func waitForRegion(after seen: Int, polling: Bool) {
        let start = DispatchTime.now().uptimeNanoseconds, spin = polling ? Self.spinTime : 0
        var polls = 0
        while generation.load(ordering: .acquiring) == seen {
            polls &+= 1
            if polls & 255 == 0 {
                if DispatchTime.now().uptimeNanoseconds &- start > spin {
                    // A signal sent between the check and the wait leaves the semaphore raised:
                    // the wait returns at once and the loop checks again.
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    polls = 0
                    continue
                }
            }
            sched_yield()
        }
    }
}
