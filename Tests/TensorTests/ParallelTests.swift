import Testing
import CBLAS
import Foundation
import Tensor

/// The threading helper: coverage, pieces, serial nesting, OpenBLAS hand-over, the worker pool.
@Suite struct ParallelTests {
    /// Records the ranges a `parallelFor` hands out (chunks are disjoint, so each writes its own slot).
    static func chunks(_ count: Int, grain: Int) -> [Range<Int>] {
        let slots = UnsafeMutablePointer<Range<Int>?>.allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
        defer { slots.deallocate() }
        parallelFor(count, grain: grain) { range in slots[range.lowerBound] = range }
        return (0..<count).compactMap { slots[$0] }
    }

    @Test(arguments: [(1, 1), (10, 1), (100_000, 1 << 15), (7, 100), (1_000, 3)])
    func coversEveryIndexOnce(_ count: Int, _ grain: Int) {
        let ranges = Self.chunks(count, grain: grain)
        #expect(ranges.map(\.count).reduce(0, +) == count)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
        #expect(ranges.count <= Parallel.threadCount * Parallel.piecesPerThread)
        #expect(ranges.count == 1 || ranges.allSatisfy { $0.count >= grain })
    }

    /// `CROSSRES_THREADS` sets a whole number of threads up to ``Parallel/maximumThreadCount``
    /// (100 000 started more than ten thousand threads); anything else leaves the default.
    @Test func environmentThreadCountsAreBounded() {
        let maximum = Parallel.maximumThreadCount
        #expect(maximum >= 256)
        #expect(Parallel.threadCount(environmentValue: "4") == 4 && Parallel.threadCount(environmentValue: "\(maximum)") == maximum)
        for bad in ["0", "-2", "abc", "", "2.5", "\(maximum + 1)", "100000"] { #expect(Parallel.threadCount(environmentValue: bad) == nil, "\(bad)") }
    }

    @Test func emptyRangeRunsNothing() {
        var ran = false
        parallelFor(0) { _ in ran = true }
        #expect(!ran)
    }

    /// The pieces `parallelFor(count)` runs (one call with everything when single-threaded).
    static func piecesOfARegion(_ count: Int) -> [Range<Int>] {
        Parallel.threadCount > 1 ? Parallel.pieces(count: count, threads: Parallel.threadCount) : [0..<count]
    }

    /// A region started from inside a running one runs on its caller, serially: the pieces a
    /// region of its own would have, in order (kernels whose blocks follow the pieces then give
    /// the same bits either way).
    @Test func nestedRegionsRunSerially() {
        let outer = Parallel.threadCount
        let inner = UnsafeMutablePointer<[Range<Int>]>.allocate(capacity: max(outer, 1))
        inner.initialize(repeating: [], count: max(outer, 1))
        defer { inner.deinitialize(count: max(outer, 1)); inner.deallocate() }
        parallelFor(outer) { range in
            for i in range {
                var pieces: [Range<Int>] = []
                parallelFor(1_000) { pieces.append($0) }  // appended without a lock: serial
                inner[i] = pieces
            }
        }
        #expect((0..<outer).allSatisfy { inner[$0] == Self.piecesOfARegion(1_000) })
    }

    @Test(.enabled(if: Parallel.threadCount > 1, "needs more than one thread"))
    func openBLASIsSingleThreadedInsideARegion() {
        let threads = Parallel.threadCount
        let seen = UnsafeMutablePointer<Int32>.allocate(capacity: threads)
        defer { seen.deallocate() }
        seen.initialize(repeating: -1, count: threads)
        parallelFor(threads) { range in for i in range { seen[i] = openblas_get_num_threads() } }
        #expect((0..<threads).allSatisfy { seen[$0] == 1 })
    }

    /// The pieces are fixed by the count, the grain and the thread count, also while other
    /// tests run regions (a region waits for the one running).
    @Test func piecesDependOnlyOnCountGrainAndThreads() {
        let threads = Parallel.threadCount
        let expected = threads > 1 ? Parallel.pieces(count: 1_000, grain: 7, threads: threads) : [0..<1_000]
        for _ in 0..<20 {
            #expect(Self.chunks(1_000, grain: 7) == expected)
        }
    }

    /// One run per thread, its pieces halving (the last two equal): the pieces another thread
    /// takes at the end of a region are the small ones.
    @Test func piecesHalveAlongEachThreadsRun() {
        #expect(Parallel.pieces(count: 64, threads: 2)
            == [0..<16, 16..<24, 24..<28, 28..<32, 32..<48, 48..<56, 56..<60, 60..<64])
        #expect(Parallel.pieces(count: 64, grain: 8, threads: 2) == [0..<16, 16..<24, 24..<32, 32..<48, 48..<56, 56..<64])
        #expect(Parallel.pieces(count: 7, threads: 3) == [0..<1, 1..<2, 2..<3, 3..<4, 4..<6, 6..<7])
        // A kernel with one partial result per thread passes the thread count: one index each.
        #expect(Parallel.pieces(count: 2, threads: 2) == [0..<1, 1..<2])
        #expect(Parallel.pieces(count: 5, grain: 10, threads: 4) == [0..<5])
        #expect(Parallel.pieces(count: 0, threads: 2).isEmpty)
    }

    @Test(arguments: [(1, 1, 2), (64, 1, 2), (1_000, 7, 2), (100_000, 1 << 15, 2), (33, 1, 4), (1_000_003, 100, 8), (5, 2, 3)])
    func piecesCoverTheRangeWithRunsOfHalvingSizes(_ count: Int, _ grain: Int, _ threads: Int) {
        let pieces = Parallel.pieces(count: count, grain: grain, threads: threads)
        #expect(pieces.first?.lowerBound == 0 && pieces.last?.upperBound == count)
        #expect(zip(pieces, pieces.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(pieces.count <= threads * Parallel.piecesPerThread)
        #expect(pieces.count == 1 || pieces.allSatisfy { $0.count >= grain })
        #expect(zip(pieces, pieces.dropFirst()).filter { $0.count < $1.count }.count < threads, "sizes grow only where a run starts")
    }

    /// Many regions back to back, some after a pause long enough for the workers to fall asleep:
    /// every piece runs exactly once, and its writes are visible when `parallelFor` returns.
    @Test func everyRegionCompletesItsPieces() {
        let count = 64
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: count)
        counts.initialize(repeating: 0, count: count)
        defer { counts.deallocate() }
        for region in 1...400 {
            if region % 100 == 0 { Thread.sleep(forTimeInterval: 0.005) }
            parallelFor(count) { range in for i in range { counts[i] += 1 } }
            #expect((0..<count).allSatisfy { counts[$0] == region })
        }
    }

    /// OpenBLAS calls and regions started from inside ``Parallel/withBLAS(_:)`` run there, as
    /// they are (the lock it holds is not taken twice).
    @Test func callsInsideWithBLASRunAsTheyAre() {
        var rng = RandomGenerator(seed: 4)
        let a = Tensor.randomNormal([40, 30], using: &rng), b = Tensor.randomNormal([30, 20], using: &rng)
        let outside = a.matmul(b).scalars
        let inside = Parallel.withBLAS { Parallel.withBLAS { a.matmul(b).scalars } }
        #expect(inside == outside)
        var ranges: [Range<Int>] = []
        Parallel.withBLAS { parallelFor(1_000) { ranges.append($0) } }  // serial, the region's pieces in order
        #expect(ranges == Self.piecesOfARegion(1_000))
    }

    /// Threads that call `parallelFor` at once: one region runs at a time, the other callers
    /// wait for it, and every result is complete.
    @Test func concurrentCallersAllFinish() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    let count = 10_000 + caller
                    let values = UnsafeMutablePointer<Int>.allocate(capacity: count)
                    defer { values.deallocate() }
                    var complete = true
                    for _ in 0..<50 {
                        values.initialize(repeating: 0, count: count)
                        parallelFor(count, grain: 100) { range in for i in range { values[i] = i &* 3 } }
                        complete = complete && (0..<count).allSatisfy { values[$0] == $0 &* 3 }
                    }
                    return complete
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }
}
