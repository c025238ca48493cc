import Foundation

/// Markdown tables of evaluation results (numbers in percent, two decimals).
public enum MarkdownReport {
    /// One verification result: accuracy, threshold, AUC, EER and TAR@FAR.
    public static func verification(_ result: VerificationResult, title: String = "Verification") -> String {
        var lines = ["## \(title)", "",
                     "\(result.pairCount) pairs (\(result.genuineCount) genuine, \(result.impostorCount) impostor), \(result.kFold.foldAccuracies.count)-fold.", "",
                     "| Metric | Value |", "|---|---|",
                     "| Accuracy (k-fold, mean ± std) | \(accuracy(result.kFold)) |",
                     "| Distance threshold (mean of folds) | \(number(result.kFold.meanThreshold, digits: 3)) |",
                     "| AUC | \(percent(result.areaUnderCurve)) |",
                     "| EER | \(percent(result.equalErrorRate.rate)) |"]
        for tar in result.trueAcceptRates {
            lines.append("| TAR @ FAR=\(far(tar.targetFalseAcceptRate)) | \(tar.point.map { percent($0.trueAcceptRate) } ?? "n/a (too few impostors)") |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One identification result: rank-k rates.
    public static func identification(_ result: IdentificationResult, title: String = "Identification") -> String {
        var lines = ["## \(title)", "", "\(result.probeCount) probes against \(result.galleryCount) gallery entries (closed set).", "",
                     "| Rank | Identification rate |", "|---|---|"]
        for r in result.rankAccuracies { lines.append("| \(r.rank) | \(percent(r.rate)) |") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A cross-resolution sweep: the headline table (rows = probe size, columns = modes), a
    /// detail table, and the settings that produced them.
    public static func sweep(_ report: SweepReport, title: String = "Cross-resolution evaluation") -> String {
        let isVerification = report.task == "verification"
        let headline = isVerification ? "\(report.settings.verification.kFold.folds)-fold accuracy % (mean ± std)" : "rank-1 identification %"
        var lines = ["## \(title)", "", "Headline: \(headline).", "",
                     "| Probe size | " + report.modes.map(\.title).joined(separator: " | ") + " |",
                     "|---|" + String(repeating: "---|", count: report.modes.count)]
        for resolution in report.settings.resolutions {
            let cells = report.modes.map { mode -> String in
                guard let entry = report.entry(mode, resolution) else { return "—" }
                if let v = entry.verification { return accuracy(v.kFold) }
                return percent(entry.identification!.rate(atRank: 1))
            }
            lines.append("| \(resolution) | " + cells.joined(separator: " | ") + " |")
        }
        lines += ["", "### Details", ""]
        if isVerification {
            let fars = report.settings.verification.falseAcceptRates
            lines.append("| Probe size | Mode | Accuracy % | Threshold | AUC % | EER % | " + fars.map { "TAR@\(far($0)) %" }.joined(separator: " | ") + " |")
            lines.append("|---|---|---|---|---|---|" + String(repeating: "---|", count: fars.count))
            for entry in report.entries {
                let v = entry.verification!
                let tars = v.trueAcceptRates.map { $0.point.map { percent($0.trueAcceptRate) } ?? "n/a" }
                lines.append("| \(entry.resolution) | \(entry.mode.title) | \(accuracy(v.kFold)) | \(number(v.kFold.meanThreshold, digits: 3)) | \(percent(v.areaUnderCurve)) | \(percent(v.equalErrorRate.rate)) | " + tars.joined(separator: " | ") + " |")
            }
        } else {
            let ranks = report.settings.ranks
            lines.append("| Probe size | Mode | " + ranks.map { "Rank-\($0) %" }.joined(separator: " | ") + " |")
            lines.append("|---|---|" + String(repeating: "---|", count: ranks.count))
            for entry in report.entries {
                let rates = ranks.map { percent(entry.identification!.rate(atRank: $0)) }
                lines.append("| \(entry.resolution) | \(entry.mode.title) | " + rates.joined(separator: " | ") + " |")
            }
        }
        let s = report.settings
        lines += ["", "### Settings", "",
                  "- task: \(report.task); modes: \(report.modes.map(\.title).joined(separator: ", "))",
                  "- embeddings: batch \(s.extractor.batchSize), flip test-time augmentation \(s.extractor.flipTestTimeAugmentation ? "on" : "off"), L2-normalised",
                  "- verification: \(s.verification.kFold.folds) folds (contiguous, unshuffled), best threshold on the training folds from \(s.verification.kFold.thresholds.count) squared-distance thresholds; ROC/AUC/EER/TAR on cosine similarity"]
        if !isVerification { lines.append("- identification: closed set, cosine similarity, ties counted against the probe") }
        for key in report.metadata.keys.sorted() { lines.append("- \(key): \(report.metadata[key]!)") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func percent(_ x: Double) -> String { number(100 * x, digits: 2) }

    static func accuracy(_ k: KFoldResult) -> String { "\(percent(k.meanAccuracy)) ± \(percent(k.standardDeviation))" }

    static func number(_ x: Double, digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func far(_ x: Double) -> String { String(format: "%g", x) }
}
