import CrossRes
import Foundation

/// What one iteration of a benchmark case does, for converting times into rates.
enum BenchWork {
    /// Floating-point operations (a multiply-add counts 2).
    case flops(Double)
    /// Bytes read plus bytes written.
    case bytes(Double)
    /// Items processed (images, samples), named by `unit`.
    case items(Double, unit: String)

    var amount: Double {
        switch self {
        case .flops(let x), .bytes(let x), .items(let x, _): x
        }
    }

    /// The unit of the rate, and the divisor that scales it (GFLOP/s, GB/s, items/s).
    var rateUnit: (name: String, scale: Double) {
        switch self {
        case .flops: ("GFLOP/s", 1e9)
        case .bytes: ("GB/s", 1e9)
        case .items(_, let unit): ("\(unit)/s", 1)
        }
    }
}

/// One benchmark case: a variant of a workload (ours, or the reference it is compared with).
///
/// To add a workload (a convolution, a training step), return more cases from a
/// `Bench…Workloads.swift` file and list them in ``BenchSuite/all``. Cases of one workload are
/// timed round-robin — one iteration of each in turn — so that load from neighbours on a shared
/// machine hits every variant alike and their ratio stays meaningful.
struct BenchCase {
    /// Stable key for JSON consumers, e.g. `w1.matmul.1024.tensor`.
    let id: String
    /// The workload, shared by the variants compared with each other, e.g. `W1 matmul 1024³`.
    let workload: String
    /// This variant, e.g. `Tensor.matmul`.
    let variant: String
    let work: BenchWork
    /// `id` of the case this one is compared with (the ratio column), if any.
    let baseline: String?
    /// The acceptance threshold for `rate / baseline rate`, if any.
    let target: Double?
    /// Default number of timed iterations (overridden by `--iterations`).
    let iterations: Int
    /// Whether every timed iteration starts with cold caches. Memory-bound cases set it: their
    /// working sets (tens of MiB) straddle the last-level cache, so without it each variant
    /// would find a different share of its operands left in cache by the one before.
    let coldCaches: Bool
    /// Floating-point operations per iteration when `work` counts something else (images):
    /// reported as a second rate, GFLOP/s.
    let flops: Double?
    /// Untimed iterations before timing (`nil`: the runner's default).
    let warmup: Int?
    /// Prepares inputs (untimed) and returns the body of one timed iteration.
    let prepare: () -> () -> Void

    init(id: String, workload: String, variant: String, work: BenchWork, baseline: String? = nil, target: Double? = nil,
         iterations: Int = 20, coldCaches: Bool = false, flops: Double? = nil, warmup: Int? = nil, prepare: @escaping () -> () -> Void) {
        self.id = id
        self.workload = workload
        self.variant = variant
        self.work = work
        self.baseline = baseline
        self.target = target
        self.iterations = iterations
        self.coldCaches = coldCaches
        self.flops = flops
        self.warmup = warmup
        self.prepare = prepare
    }
}

/// Timed seconds of one case, summarised.
struct BenchMeasurement {
    let benchCase: BenchCase
    let seconds: [Double]
    /// Per iteration, the CPU other processes used meanwhile, in cores (empty where the system
    /// does not report it). `/proc/stat` counts in 10 ms ticks, so single short iterations are
    /// coarse; the mean over a workload is meaningful.
    let otherCores: [Double]

    var median: Double {
        let s = seconds.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var fastest: Double { seconds.min() ?? .nan }
    var slowest: Double { seconds.max() ?? .nan }

    /// Rate at the median, fastest and slowest iteration, in the work's unit.
    func rate(_ seconds: Double) -> Double { benchCase.work.amount / seconds / benchCase.work.rateUnit.scale }

    /// GFLOP/s at `seconds` per iteration, for cases that count their FLOPs apart from `work`.
    func gflops(_ seconds: Double) -> Double? { benchCase.flops.map { $0 / seconds / 1e9 } }
}

/// Runs cases workload by workload, interleaving the variants of each.
enum BenchRunner {
    /// Monotonic time in seconds.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// CPU seconds the whole machine spent busy (user, nice, system, irq, softirq, steal from
    /// the first line of `/proc/stat`), or `nil` where that file does not exist.
    static func machineBusySeconds() -> Double? {
        guard let file = fopen("/proc/stat", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return nil }
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds used by this process.
    static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
    }

    /// Bytes written before a ``BenchCase/coldCaches`` iteration: twice a large last-level cache.
    static let evictionBytes = 64 << 20

    /// `warmup` untimed iterations of every variant, then `iterations` rounds of one timed
    /// iteration each.
    static func measure(_ cases: [BenchCase], iterations override: Int?, warmup: Int = 2,
                        progress: (String) -> Void) -> [BenchMeasurement] {
        var workloads: [String] = []
        for c in cases where !workloads.contains(c.workload) { workloads.append(c.workload) }
        var results: [BenchMeasurement] = []
        let eviction = UnsafeMutableRawPointer.allocate(byteCount: evictionBytes, alignment: 64)
        defer { eviction.deallocate() }
        var evictions: Int32 = 0
        for workload in workloads {
            let group = cases.filter { $0.workload == workload }
            progress(workload)
            let bodies = group.map { $0.prepare() }
            for (c, body) in zip(group, bodies) { for _ in 0..<(c.warmup ?? warmup) { body() } }
            let rounds = override ?? group.map(\.iterations).max()!
            var samples = [[Double]](repeating: [], count: group.count)
            var others = [[Double]](repeating: [], count: group.count)
            for _ in 0..<rounds {
                for (i, body) in bodies.enumerated() {
                    if group[i].coldCaches {
                        evictions &+= 1
                        memset(eviction, evictions & 0xFF, evictionBytes)
                    }
                    let busy = machineBusySeconds(), own = ownSeconds()
                    let start = now()
                    body()
                    let elapsed = now() - start
                    samples[i].append(elapsed)
                    if let busy, let busyAfter = machineBusySeconds() {
                        others[i].append(Swift.max(0, (busyAfter - busy) - (ownSeconds() - own)) / elapsed)
                    }
                }
            }
            results += group.indices.map { BenchMeasurement(benchCase: group[$0], seconds: samples[$0], otherCores: others[$0]) }
        }
        return results
    }
}
