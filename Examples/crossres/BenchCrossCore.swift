import Dispatch
import Foundation
import Synchronization

/// How long a cache line takes to travel from one core to another and back, measured by two
/// threads passing a counter between them.
///
/// On this project's virtual machines the figure comes in two kinds that alternate over minutes:
/// about 55 ns while the two vCPUs sit on one die of the host and about 340 ns while they sit on
/// two. In the far kind, the two threads of one process run slower, the more so the more data
/// they share (OpenBLAS's own two-thread GEMM: 1024³ takes 13 instead of 10.5 ms), while
/// single-threaded work and separate processes do not, so `crossres bench` reports the figure
/// at its start and end to say which kind a run had (Docs/Performance.md, session 9).
enum CrossCoreLatency {
    private final class Line: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Median round trip in nanoseconds over batches of `trips` hand-overs, or `nil` with one
    /// core, or when three attempts 150 ms apart find the other core busy (OpenBLAS's threads
    /// poll for about 0.1 s after a multi-threaded GEMM; another program may be running).
    static func roundTripNanoseconds(batches: Int = 5, trips: Int = 4_000) -> Double? {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2 else { return nil }
        for attempt in 0..<3 {
            if attempt > 0 { usleep(150_000) }
            if let nanoseconds = measure(batches: batches, trips: trips) { return nanoseconds }
        }
        return nil
    }

    /// One measurement, or `nil` when the other thread does not answer within 50 ms.
    private static func measure(batches: Int, trips: Int) -> Double? {
        let line = Line(), finished = DispatchSemaphore(value: 0)
        let total = (batches &+ 1) &* trips
        // The answering thread: turns every odd value into the next even one; a negative value
        // (the caller gave up) ends it.
        let answerer = Thread {
            var expected = 1
            while expected < 2 &* total {
                let seen = line.value.load(ordering: .acquiring)
                if seen < 0 { break }
                if seen == expected {
                    line.value.store(expected &+ 1, ordering: .releasing)
                    expected &+= 2
                }
            }
            finished.signal()
        }
        answerer.start()
        defer { finished.wait() }
        var batchMeans: [Double] = []
        let deadline = DispatchTime.now().uptimeNanoseconds &+ 50_000_000
        // The first batch warms up (the thread starts, the line settles); the rest are timed.
        for batch in 0...batches {
            let start = DispatchTime.now().uptimeNanoseconds
            for trip in 0..<trips {
                let sent = 2 &* (batch &* trips &+ trip) &+ 1
                line.value.store(sent, ordering: .releasing)
                var polls = 0
                while line.value.load(ordering: .acquiring) != sent &+ 1 {
                    polls &+= 1
                    if polls & 1023 == 0 && DispatchTime.now().uptimeNanoseconds > deadline {
                        line.value.store(-1, ordering: .releasing)
                        return nil
                    }
                }
            }
            if batch > 0 { batchMeans.append(Double(DispatchTime.now().uptimeNanoseconds &- start) / Double(trips)) }
        }
        return batchMeans.sorted()[batchMeans.count / 2]
    }

    /// Round trips from which the cores count as far apart (measured on an AMD EPYC host:
    /// 55–90 ns near, 320–350 ns far; on an Intel Xeon host: 104–246 ns, with no two levels).
    static let farNanoseconds = 280.0

    /// The round trip in words, for the bench's output.
    static func describe(_ nanoseconds: Double?) -> String {
        guard let nanoseconds else { return "not measured (one core, or the other core was busy)" }
        let kind = nanoseconds >= farNanoseconds
            ? "far apart: multi-threaded figures run slower than usual on this machine now" : "near"
        return String(format: "%.0f ns", nanoseconds) + " (\(kind))"
    }
}
