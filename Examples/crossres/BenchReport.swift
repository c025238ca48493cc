import CBLAS
import CrossRes
import Foundation

/// The benchmark's output: a text table for people and a JSON document for tools.
struct BenchReport {
    let measurements: [BenchMeasurement]
    let command: String
    /// ``CrossCoreLatency/roundTripNanoseconds(batches:trips:)`` before and after the timing.
    let crossCoreRoundTrip: (start: Double?, end: Double?)

    /// The baseline measurement of `m`, if it has one.
    func baseline(of m: BenchMeasurement) -> BenchMeasurement? {
        guard let id = m.benchCase.baseline else { return nil }
        return measurements.first { $0.benchCase.id == id }
    }

    /// `rate / baseline rate` at the medians (what the targets are judged on).
    func ratio(_ m: BenchMeasurement) -> Double? {
        baseline(of: m).map { m.rate(m.median) / $0.rate($0.median) }
    }

    /// `rate / baseline rate` of the fastest iterations: the least disturbed by neighbours.
    func bestRatio(_ m: BenchMeasurement) -> Double? {
        baseline(of: m).map { m.rate(m.fastest) / $0.rate($0.fastest) }
    }

    // MARK: Machine

    static var cpuModel: String {
        let lines = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        func field(_ name: String) -> String? {
            lines.lazy.map { $0.split(separator: ":", maxSplits: 1) }
                .first { $0.count == 2 && $0[0].trimmingCharacters(in: .whitespaces) == name }
                .map { $0[1].trimmingCharacters(in: .whitespaces) }
        }
        guard let name = field("model name") else { return "unknown" }
        // Virtual machines often report a generic name: the family and model say which part it is.
        guard let family = field("cpu family"), let model = field("model") else { return name }
        return "\(name) (family \(family), model \(model))"
    }

    /// Peak resident set size of this process in MiB (`VmHWM`), if the system reports it.
    static var peakResidentMiB: Double? {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib / 1024
    }

    static var machine: [String: Any] {
        let environment = ["OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "CROSSRES_THREADS"]
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return [
            "cpu": cpuModel,
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "threads": Parallel.threadCount,
            "openblasCore": BLASCore.name,
            "openblasDetectedCore": BLASCore.reselection?.from ?? BLASCore.name,
            "openblasConfig": String(cString: openblas_get_config()),
            "environment": Dictionary(uniqueKeysWithValues: environment.map { ($0, ProcessInfo.processInfo.environment[$0] ?? "") }),
            "build": configuration,
        ]
    }

    // MARK: Output

    var table: String {
        func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
        func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
            let space = String(repeating: " ", count: max(0, width - s.count))
            return left ? space + s : s + space
        }
        var lines = [pad("workload / variant", 34) + pad("median ms", 11, left: true) + pad("min–max ms", 23, left: true)
                     + pad("rate at median (min–max)", 52, left: true) + pad("ratio", 9, left: true) + pad("fastest", 9, left: true) + "  target"]
        var workload = ""
        for m in measurements {
            if m.benchCase.workload != workload {
                workload = m.benchCase.workload
                let group = measurements.filter { $0.benchCase.workload == workload }
                lines.append(workload + (Self.interference(group).map { "   [\($0)]" } ?? ""))
            }
            let unit = m.benchCase.work.rateUnit.name
            var rate = "\(fixed(m.rate(m.median), 1)) \(unit) (\(fixed(m.rate(m.slowest), 1))–\(fixed(m.rate(m.fastest), 1)))"
            if let g = m.gflops(m.median) { rate += ", \(fixed(g, 1)) GFLOP/s" }
            var row = pad("  " + m.benchCase.variant, 34) + pad(fixed(m.median * 1e3, 2), 11, left: true)
                + pad("\(fixed(m.fastest * 1e3, 2))–\(fixed(m.slowest * 1e3, 2))", 23, left: true) + pad(rate, 52, left: true)
            if let r = ratio(m) {
                row += pad(fixed(r, 2) + "×", 9, left: true) + pad(fixed(bestRatio(m) ?? .nan, 2) + "×", 9, left: true)
                if let t = m.benchCase.target { row += "  ≥ \(fixed(t, 2))× " + (r >= t ? "met" : "MISSED") }
            }
            lines.append(row)
        }
        return lines.joined(separator: "\n")
    }

    /// How much CPU other processes took while a workload was timed, in words.
    static func interference(_ group: [BenchMeasurement]) -> String? {
        let all = group.flatMap(\.otherCores)
        guard !all.isEmpty else { return nil }
        let mean = all.reduce(0, +) / Double(all.count)
        let interfered = all.filter { $0 > 0.1 }.count
        return String(format: "other processes: %.2f cores on average, %d/%d iterations > 10 %% of a core", mean, interfered, all.count)
    }

    var json: [String: Any] {
        var document: [String: Any] = [
            "command": command,
            "date": ISO8601DateFormatter().string(from: Date()),
            "machine": Self.machine,
            "results": measurements.map { m -> [String: Any] in
                var entry: [String: Any] = [
                    "id": m.benchCase.id, "workload": m.benchCase.workload, "variant": m.benchCase.variant,
                    "iterations": m.seconds.count, "seconds": ["median": m.median, "min": m.fastest, "max": m.slowest],
                    "rate": ["unit": m.benchCase.work.rateUnit.name, "median": m.rate(m.median), "min": m.rate(m.slowest), "max": m.rate(m.fastest)],
                ]
                if !m.otherCores.isEmpty {
                    entry["otherProcessesCores"] = ["mean": m.otherCores.reduce(0, +) / Double(m.otherCores.count),
                                                    "max": m.otherCores.max()!,
                                                    "iterationsAbove10Percent": m.otherCores.filter { $0 > 0.1 }.count]
                }
                if let flops = m.benchCase.flops {
                    entry["gflops"] = ["median": flops / m.median / 1e9, "min": flops / m.slowest / 1e9,
                                       "max": flops / m.fastest / 1e9, "flopPerIteration": flops]
                }
                if let baseline = m.benchCase.baseline { entry["baseline"] = baseline }
                if let r = ratio(m) { entry["ratio"] = r }
                if let r = bestRatio(m) { entry["ratioOfFastest"] = r }
                if let t = m.benchCase.target {
                    entry["target"] = t
                    if let r = ratio(m) { entry["meetsTarget"] = r >= t }
                }
                return entry
            },
        ]
        if let peak = Self.peakResidentMiB { document["peakResidentMiB"] = peak }
        document["crossCoreRoundTripNs"] = ["start": crossCoreRoundTrip.start ?? NSNull(),
                                            "end": crossCoreRoundTrip.end ?? NSNull()] as [String: Any]
        return document
    }

    /// Writes the JSON document atomically.
    func writeJSON(to url: URL) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    }
}
