import Foundation

extension DigitsExperiment.Result {
    /// The comparison table (ours mean ± std over the seeds beside the paper's Table 2; one
    /// seed's accuracy alone), then every run, as Markdown.
    public var markdown: String {
        let directions = configuration.directions, methods = configuration.methods
        func cell(_ direction: DigitsExperiment.Direction, _ method: DigitsExperiment.Method) -> (ours: String, paper: String) {
            let summary = summaries.first { $0.direction == direction && $0.method == method }
            let ours = summary.map { summary in
                summary.standardDeviation.map { String(format: "%.3f ± %.3f", summary.mean, $0) } ?? String(format: "%.3f", summary.mean)
            } ?? "–"
            let paper = summary?.paperMean.map { mean in String(format: "%.3f ± %.3f", mean, summary?.paperStandardDeviation ?? 0) } ?? "–"
            return (ours, paper)
        }
        var lines = ["| Method | " + directions.map { "\($0.title) (ours) | \($0.title) (paper)" }.joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|---|", count: directions.count)]
        for method in methods {
            lines.append("| \(method.title) | " + directions.map { let c = cell($0, method); return "\(c.ours) | \(c.paper)" }.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append(configuration.seeds.count == 1
                     ? "Target-test accuracy of seed \(configuration.seeds[0]) (one seed: no standard deviation)."
                     : "Target-test accuracy, mean ± sample standard deviation over seeds \(configuration.seeds.map(String.init).joined(separator: ", ")).")
        lines.append("")
        lines.append("| Direction | Method | Seed | Target accuracy | Source test accuracy | Training s | Last step |")
        lines.append("|---|---|---|---|---|---|---|")
        for run in runs {
            let terms = run.finalTerms.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3g", Double($0.value)))" }.joined(separator: ", ")
            lines.append("| \(run.direction.title) | \(run.method.title) | \(run.seed) | \(String(format: "%.4f", run.targetAccuracy)) | "
                         + "\(String(format: "%.4f", run.sourceAccuracy)) | \(String(format: "%.0f", run.seconds)) | \(terms) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `report.md` (the tables) and `result.json` (everything) in `folder`.
    public func write(to folder: RunFolder) throws {
        try folder.write(Data(("# Digits: MNIST ↔ USPS (ADDA, Table 2)\n\n" + markdown).utf8), to: "report.md")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try folder.write(encoder.encode(self), to: "result.json")
    }
}
