import CBLAS
import CrossRes
import Foundation

/// `crossres bench`: times `Tensor` against direct library calls (and later whole training
/// steps), prints a table and optionally writes JSON. Build with `-c release`.
enum BenchCommand {
    static let options: [ConfigurationOption] = [
        ConfigurationOption("json", .text, "FILE", "also write the results as JSON"),
        ConfigurationOption("iterations", .integer, "N", "timed iterations per case (default: per case, 30–100)"),
        ConfigurationOption("threads", .integer, "N", "threads for our kernels and OpenBLAS, at most 256 (or the cores when more; default: all cores, or CROSSRES_THREADS)"),
        ConfigurationOption("filter", .text, "TEXT", "only cases whose id or workload contains TEXT (and their references)"),
        ConfigurationOption("list", .flag, "", "list the cases and exit"),
    ]

    static let help = CommandHelp.text(
        "bench", synopsis: "[--json FILE] [--iterations N] [--threads N] [--filter TEXT] [--list]",
        summary: "Times Tensor against direct library calls and whole training steps (build with -c release).",
        options: options,
        notes: ["Variants of one workload are timed round-robin after a warm-up; medians and min–max are reported,",
                "ratios to the baseline at the medians (judged against the target) and at the fastest iterations."],
        example: "crossres bench --threads 1 --filter matmul --json bench.json")

    static func run(_ arguments: [String]) throws {
        // Parsed as every command's line; every check is a usage error (status 2).
        let invocation = try CommandLineError.usage { try Invocation(arguments, options: options, help: help) }
        if invocation.helpRequested { print(help); return }
        let (jsonURL, iterations, threads, filter, list) = try CommandLineError.usage {
            func positive(_ key: String) throws -> Int? {
                guard let n = try invocation.integer(key) else { return nil }
                guard n >= 1 else { throw CommandLineError("--\(key) needs a positive integer, got \(n)") }
                return n
            }
            let threads = try positive("threads")
            if let threads, threads > Parallel.maximumThreadCount {
                throw CommandLineError("--threads needs at most \(Parallel.maximumThreadCount), got \(threads)")
            }
            // A JSON path that cannot be written is found now, not after the whole benchmark.
            let json = try invocation.nonEmpty("json")
            if let json { try OutputPath.check(json, outside: []) }
            return (json.map { URL(fileURLWithPath: $0) }, try positive("iterations"), threads,
                    try invocation.string("filter"), try invocation.bool("list"))
        }
        let all = BenchSuite.all()
        var cases = all
        if let filter {
            // The selected cases and the references they are compared with.
            let selected = all.filter { $0.id.contains(filter) || $0.workload.contains(filter) }
            let needed = Set(selected.map(\.id) + selected.compactMap(\.baseline))
            cases = all.filter { needed.contains($0.id) }
        }
        guard !cases.isEmpty else { throw CommandLineError("no benchmark case matches '\(filter ?? "")' (see --list)") }
        if list {
            for c in cases { print("\(c.id.padding(toLength: 28, withPad: " ", startingAt: 0)) \(c.workload) — \(c.variant)") }
            return
        }
        #if DEBUG
        FileHandle.standardError.write("crossres bench: this is a debug build; build with -c release for meaningful figures\n".data(using: .utf8)!)
        #endif

        // One thread setting for our kernels and OpenBLAS, applied before anything runs.
        Parallel.threadCount = threads ?? Parallel.threadCount
        let machine = BenchReport.machine
        print("CPU \(machine["cpu"]!), \(machine["cores"]!) cores; \(Parallel.threadCount) threads; OpenBLAS core \(machine["openblasCore"]!)"
              + (BLASCore.reselection.map { " (OpenBLAS chose \($0.from) for this CPU)" } ?? ""))
        let roundTripBefore = CrossCoreLatency.roundTripNanoseconds()
        print("cross-core round trip \(CrossCoreLatency.describe(roundTripBefore))")
        warmUpBLAS()

        let measurements = BenchRunner.measure(cases, iterations: iterations) { workload in
            FileHandle.standardError.write("  timing \(workload)…\n".data(using: .utf8)!)
        }
        let roundTripAfter = CrossCoreLatency.roundTripNanoseconds()
        let report = BenchReport(measurements: measurements, command: (["crossres", "bench"] + arguments).joined(separator: " "),
                                 crossCoreRoundTrip: (roundTripBefore, roundTripAfter))
        print(report.table)
        if let peak = BenchReport.peakResidentMiB { print(String(format: "peak resident memory %.0f MiB", peak)) }
        print("cross-core round trip at the end \(CrossCoreLatency.describe(roundTripAfter))")
        if let jsonURL {
            try report.writeJSON(to: jsonURL)
            print("wrote \(jsonURL.path)")
        }
    }

    /// A fresh process runs small GEMMs several times slower until one large GEMM has set up
    /// OpenBLAS's buffers and threads: run a few 1024³ products before timing anything.
    static func warmUpBLAS() {
        let n = 1024
        let a = Tensor.ones([n, n]), c = Tensor.zeros([n, n])
        for _ in 0..<3 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a.storage.base, Int32(n), a.storage.base, Int32(n), 0, c.storage.base, Int32(n))
        }
    }
}
