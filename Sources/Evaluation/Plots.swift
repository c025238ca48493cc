import Foundation
import Tensor

/// The standard evaluation figures, built on ``SVGPlot``.
public enum Plots {
    /// ROC curves of several models: TAR against FAR on a logarithmic FAR axis (IJB-C style).
    ///
    /// The axis starts at the power of ten strictly below the smallest non-zero FAR of any curve
    /// (or at `minimumFAR`, in `0 < f < 1`). Points with FAR = 0, which a log axis cannot show,
    /// are drawn at the axis minimum: the TAR there is the TAR at every FAR below the first false
    /// accept, apart from the first real point even when its FAR is a power of ten.
    public static func roc(_ curves: [(name: String, curve: ROCCurve)], title: String = "ROC", minimumFAR: Double? = nil) -> SVGPlot {
        precondition(minimumFAR.map { $0 > 0 && $0 < 1 } ?? true, "Plots.roc: minimumFAR must be in 0 < f < 1, got \(minimumFAR!)")
        let smallest = curves.flatMap { $0.curve.points.map(\.falseAcceptRate) }.filter { $0 > 0 }.min() ?? 1e-3
        let low = minimumFAR ?? pow(10, ceil(log10(smallest)) - 1)
        return SVGPlot(title: title,
                       x: PlotAxis(label: "False accept rate (FAR)", scale: .logarithmic, range: low...1),
                       y: PlotAxis(label: "True accept rate (TAR)", range: 0...1),
                       series: curves.map { PlotSeries(name: $0.name, points: $0.curve.points.map { (Swift.max($0.falseAcceptRate, low), $0.trueAcceptRate) }) })
    }

    /// Headline accuracy (verification) or rank-1 rate (identification), in percent, against
    /// probe resolution: one line per report and mode, probe sizes as evenly spaced categories.
    public static func accuracyVersusResolution(_ reports: [(name: String, report: SweepReport)],
                                                title: String = "Accuracy against probe resolution") -> SVGPlot {
        var resolutions: [ProbeResolution] = []
        for (_, report) in reports {
            for r in report.settings.resolutions where !resolutions.contains(r) { resolutions.append(r) }
        }
        let index = Dictionary(uniqueKeysWithValues: resolutions.enumerated().map { ($1, Double($0)) })
        var series: [PlotSeries] = []
        for (name, report) in reports {
            for mode in report.modes {
                let points = report.settings.resolutions.compactMap { r in
                    report.entry(mode, r).map { (x: index[r]!, y: 100 * $0.headline) }
                }
                series.append(PlotSeries(name: name.isEmpty ? mode.title : "\(name) · \(mode.title)", points: points, showsMarkers: true))
            }
        }
        let isVerification = reports.first?.report.task != "identification"
        let folds = Set(reports.map(\.report.settings.verification.kFold.folds))
        let accuracy = folds.count == 1 ? "\(folds.first!)-fold accuracy (%)" : "k-fold accuracy (%)"
        return SVGPlot(title: title,
                       x: PlotAxis(label: "Probe size (pixels)", range: -0.5...(Double(max(resolutions.count, 1)) - 0.5),
                                   ticks: resolutions.enumerated().map { (Double($0), $1.description) }),
                       y: PlotAxis(label: isVerification ? accuracy : "Rank-1 identification (%)"),
                       series: series)
    }

    /// Cumulative match characteristic curves: identification rate against rank.
    public static func cmc(_ results: [(name: String, result: IdentificationResult)], title: String = "CMC") -> SVGPlot {
        let longest = results.map(\.result.cmc.count).max() ?? 1
        return SVGPlot(title: title,
                       x: PlotAxis(label: "Rank", range: 1...Double(max(longest, 2))),
                       y: PlotAxis(label: "Identification rate", range: 0...1),
                       series: results.map { r in
                           PlotSeries(name: r.name, points: r.result.cmc.enumerated().map { (Double($0 + 1), $1) }, showsMarkers: r.result.cmc.count <= 20)
                       })
    }
}
