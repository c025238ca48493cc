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
    /// Prepares inputs (untimed) and returns the body of one timed iteration.
    let prepare: () -> () -> Void

    init(id: String, workload: String, variant: String, work: BenchWork, baseline: String? = nil, target: Double? = nil,
         iterations: Int = 20, prepare: @escaping () -> () -> Void) {
        self.id = id
        self.workload = workload
        self.variant = variant
        self.work = work
        self.baseline = baseline
        self.target = target
        self.iterations = iterations
        self.prepare = prepare
    }
}

/// Timed seconds of one case, summarised.
struct BenchMeasurement {
    let benchCase: BenchCase
    let seconds: [Double]

    var median: Double {
        let s = seconds.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    var fastest: Double { seconds.min() ?? .nan }
    var slowest: Double { seconds.max() ?? .nan }

    /// Rate at the median, fastest and slowest iteration, in the work's unit.
    func rate(_ seconds: Double) -> Double { benchCase.work.amount / seconds / benchCase.work.rateUnit.scale }
}

/// Runs cases workload by workload, interleaving the variants of each.
enum BenchRunner {
    /// Monotonic time in seconds.
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// `warmup` untimed iterations of every variant, then `iterations` rounds of one timed
    /// iteration each.
    static func measure(_ cases: [BenchCase], iterations override: Int?, warmup: Int = 2,
                        progress: (String) -> Void) -> [BenchMeasurement] {
        var workloads: [String] = []
        for c in cases where !workloads.contains(c.workload) { workloads.append(c.workload) }
        var results: [BenchMeasurement] = []
        for workload in workloads {
            let group = cases.filter { $0.workload == workload }
            progress(workload)
            let bodies = group.map { $0.prepare() }
            for body in bodies { for _ in 0..<warmup { body() } }
            let rounds = override ?? group.map(\.iterations).max()!
            var samples = [[Double]](repeating: [], count: group.count)
            for _ in 0..<rounds {
                for (i, body) in bodies.enumerated() {
                    let start = now()
                    body()
                    samples[i].append(now() - start)
                }
            }
            results += zip(group, samples).map { BenchMeasurement(benchCase: $0, seconds: $1) }
        }
        return results
    }
}
