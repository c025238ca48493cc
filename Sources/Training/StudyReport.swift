import Foundation
import Evaluation

/// Tables, plots and files of a ``CrossResolutionStudy/Result``: mean ± standard deviation over
/// the student seeds for every family, probe size and mode.
public struct StudyReport {
    public let result: CrossResolutionStudy.Result

    public init(_ result: CrossResolutionStudy.Result) { self.result = result }

    /// Family names in configuration order.
    public var families: [String] { result.configuration.families.map(\.name) }

    /// Probe resolutions in table order.
    public var resolutions: [ProbeResolution] { result.students.first?.verification.settings.resolutions ?? [] }

    /// Mean and population standard deviation over seeds of one family's headline number (no
    /// standard deviation for one seed).
    public func statistic(_ family: String, _ mode: SweepMode, _ resolution: ProbeResolution,
                          identification: Bool = false) -> (mean: Double, std: Double?)? {
        let values = result.students.filter { $0.family == family }.compactMap {
            (identification ? $0.identification : $0.verification).entry(mode, resolution)?.headline
        }
        guard !values.isEmpty else { return nil }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return (mean, values.count > 1 ? variance.squareRoot() : nil)
    }

    /// One Markdown table: families × probe sizes.
    public func table(_ mode: SweepMode, identification: Bool = false) -> String {
        let header = "| family | " + resolutions.map { $0 == .native ? "native" : "\($0) px" }.joined(separator: " | ") + " |"
        let rule = "|---|" + String(repeating: "---|", count: resolutions.count)
        let rows = families.map { family in
            "| \(family) | " + resolutions.map { r in
                statistic(family, mode, r, identification: identification).map { cell in
                    cell.std.map { String(format: "%.3f ± %.3f", cell.mean, $0) } ?? String(format: "%.3f", cell.mean)
                } ?? "–"
            }.joined(separator: " | ") + " |"
        }
        return ([header, rule] + rows).joined(separator: "\n")
    }

    /// The whole report as Markdown.
    public var markdown: String {
        let c = result.configuration
        let seeds: String = c.seeds.map(String.init).joined(separator: ", ")
        let teacher: String = "Teacher: SmallFaceNet trained \(c.teacherSteps) steps on HR \(c.imageSize)×\(c.imageSize) (\(c.head), s = \(c.headScale), m = \(c.headMargin)); "
        let students: String = "students: \(c.studentSteps) steps on LR views `\(c.trainingView)`; seeds \(seeds); "
        let probes: String = "probes bicubic down to each size and back up to \(c.imageSize). "
            + (c.seeds.count == 1 ? "Cells: the one seed's value (no standard deviation)." : "Cells: mean ± std over seeds.")
        var lines: [String] = [
            "# Cross-resolution study on \(result.dataset)",
            "",
            teacher + students + probes,
            "",
            "## Verification accuracy (\(c.verificationFolds)-fold), teacher-HR gallery vs student-LR probe (cross-model)",
            "",
            table(.crossModel),
            "",
            "## Verification accuracy (\(c.verificationFolds)-fold), LR vs LR (student on both sides)",
            "",
            table(.lrVsLr),
            "",
            "## Rank-1 identification, teacher-HR gallery vs student-LR probes (cross-model)",
            "",
            table(.crossModel, identification: true),
            "",
            "## Rank-1 identification, HR gallery vs LR probes through the student",
            "",
            table(.hrVsLr, identification: true),
            "",
            "## Teacher alone (HR gallery vs LR probe through the teacher)",
            "",
        ]
        let teacherCells: [String] = resolutions.map { r in
            result.teacherVerification.entry(.hrVsLr, r).map { String(format: "%.3f", $0.headline) } ?? "–"
        }
        lines.append("| " + resolutions.map(\.description).joined(separator: " | ") + " |")
        lines.append("|" + String(repeating: "---|", count: resolutions.count))
        lines.append("| " + teacherCells.joined(separator: " | ") + " |")
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// Mean cross-model (or other mode) accuracy against probe size, one curve per family.
    public func plot(_ mode: SweepMode, identification: Bool = false) -> SVGPlot {
        let sizes = resolutions.compactMap { r -> (ProbeResolution, Double)? in
            if case .pixels(let s) = r { return (r, Double(s)) } else { return nil }
        }
        let series = families.map { family in
            PlotSeries(name: family, points: sizes.compactMap { r, x in
                statistic(family, mode, r, identification: identification).map { (x: x, y: $0.mean) }
            }, showsMarkers: true)
        }
        return SVGPlot(title: "\(identification ? "Rank-1" : "Verification accuracy"), \(mode.title)",
                       x: PlotAxis(label: "probe size (px)"), y: PlotAxis(label: identification ? "rank-1" : "accuracy"),
                       series: series)
    }

    /// Writes `report.md`, `report.json` and the plots into `folder`.
    public func write(to folder: RunFolder) throws {
        try ReportWriter.write(markdown, to: URL(fileURLWithPath: folder.file("report.md")))
        try ReportWriter.writeJSON(result, to: URL(fileURLWithPath: folder.file("report.json")))
        try plot(.crossModel).write(to: URL(fileURLWithPath: folder.file("accuracy-cross-model.svg")))
        try plot(.lrVsLr).write(to: URL(fileURLWithPath: folder.file("accuracy-lr-vs-lr.svg")))
        try plot(.crossModel, identification: true).write(to: URL(fileURLWithPath: folder.file("rank1-cross-model.svg")))
    }
}
