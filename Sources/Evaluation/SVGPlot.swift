import Foundation

/// How an axis maps values to positions.
public enum AxisScale: String, Codable, Sendable {
    case linear
    /// Base-10 logarithmic; values ≤ 0 are not drawn.
    case logarithmic
}

/// One axis of a plot.
public struct PlotAxis: Sendable {
    public var label: String
    public var scale: AxisScale
    /// Shown range; `nil` fits the data (linear: widened to whole tick steps; log: whole decades).
    public var range: ClosedRange<Double>?
    /// Explicit ticks (position, label), e.g. categorical probe sizes; `nil` chooses them.
    public var ticks: [(value: Double, label: String)]?

    public init(label: String, scale: AxisScale = .linear, range: ClosedRange<Double>? = nil,
                ticks: [(value: Double, label: String)]? = nil) {
        self.label = label
        self.scale = scale
        self.range = range
        self.ticks = ticks
    }
}

/// One named curve.
public struct PlotSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Draw a dot at every point (for sparse series such as accuracy per probe size).
    public var showsMarkers: Bool

    public init(name: String, points: [(x: Double, y: Double)], showsMarkers: Bool = false) {
        self.name = name
        self.points = points
        self.showsMarkers = showsMarkers
    }
}

/// A small SVG line chart: title, two axes with ticks, grid, one polyline per series and a
/// legend. Every curve is a `<polyline class="series" data-name="…">`, clipped to the plot area.
public struct SVGPlot: Sendable {
    public var title: String
    public var x: PlotAxis
    public var y: PlotAxis
    public var series: [PlotSeries]
    public var width: Double
    public var height: Double

    public init(title: String, x: PlotAxis, y: PlotAxis, series: [PlotSeries], width: Double = 640, height: Double = 440) {
        self.title = title
        self.x = x
        self.y = y
        self.series = series
        self.width = width
        self.height = height
    }

    /// The tableau-10 palette.
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// The SVG document.
    public func render() -> String {
        let (left, right, top, bottom) = (72.0, width - 20, 44.0, height - 56)
        let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
        let xRange = Self.resolvedRange(x, values: xs), yRange = Self.resolvedRange(y, values: ys)
        func position(_ v: Double, _ axis: PlotAxis, _ range: ClosedRange<Double>, _ from: Double, _ to: Double) -> Double {
            let t = { (u: Double) in axis.scale == .logarithmic ? log10(u) : u }
            let span = t(range.upperBound) - t(range.lowerBound)
            return from + (span > 0 ? (t(v) - t(range.lowerBound)) / span : 0.5) * (to - from)
        }
        func px(_ v: Double) -> Double { position(v, x, xRange, left, right) }
        func py(_ v: Double) -> Double { position(v, y, yRange, bottom, top) }

        var svg = [#"<?xml version="1.0" encoding="UTF-8"?>"#,
                   #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(f(width))" height="\#(f(height))" viewBox="0 0 \#(f(width)) \#(f(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
                   #"<rect width="100%" height="100%" fill="white"/>"#,
                   #"<defs><clipPath id="plot-area"><rect x="\#(f(left))" y="\#(f(top))" width="\#(f(right - left))" height="\#(f(bottom - top))"/></clipPath></defs>"#,
                   #"<text x="\#(f(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\#(Self.escape(title))</text>"#]
        // Grid and ticks.
        for (value, label) in Self.ticks(x, xRange) {
            let p = px(value)
            svg.append(#"<line x1="\#(f(p))" y1="\#(f(top))" x2="\#(f(p))" y2="\#(f(bottom))" stroke="rgb(229,229,229)"/>"#)
            svg.append(#"<line x1="\#(f(p))" y1="\#(f(bottom))" x2="\#(f(p))" y2="\#(f(bottom + 5))" stroke="black"/>"#)
            svg.append(#"<text x="\#(f(p))" y="\#(f(bottom + 19))" text-anchor="middle">\#(label)</text>"#)
        }
        for (value, label) in Self.ticks(y, yRange) {
            let p = py(value)
            svg.append(#"<line x1="\#(f(left))" y1="\#(f(p))" x2="\#(f(right))" y2="\#(f(p))" stroke="rgb(229,229,229)"/>"#)
            svg.append(#"<line x1="\#(f(left - 5))" y1="\#(f(p))" x2="\#(f(left))" y2="\#(f(p))" stroke="black"/>"#)
            svg.append(#"<text x="\#(f(left - 8))" y="\#(f(p + 4))" text-anchor="end">\#(label)</text>"#)
        }
        svg.append(#"<rect x="\#(f(left))" y="\#(f(top))" width="\#(f(right - left))" height="\#(f(bottom - top))" fill="none" stroke="black"/>"#)
        svg.append(#"<text x="\#(f((left + right) / 2))" y="\#(f(height - 14))" text-anchor="middle">\#(Self.escape(x.label))</text>"#)
        svg.append(#"<text x="18" y="\#(f((top + bottom) / 2))" text-anchor="middle" transform="rotate(-90 18 \#(f((top + bottom) / 2)))">\#(Self.escape(y.label))</text>"#)
        // Curves.
        for (i, s) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let visible = s.points.filter { (x.scale == .linear || $0.x > 0) && (y.scale == .linear || $0.y > 0) && $0.x.isFinite && $0.y.isFinite }
            let coordinates = visible.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg.append(#"<g clip-path="url(#plot-area)"><polyline class="series" data-name="\#(Self.escape(s.name))" points="\#(coordinates)" fill="none" stroke="\#(color)" stroke-width="2" stroke-linejoin="round"/>"#)
            if s.showsMarkers {
                for p in visible { svg.append(#"<circle cx="\#(f(px(p.x)))" cy="\#(f(py(p.y)))" r="3.5" fill="\#(color)"/>"#) }
            }
            svg.append("</g>")
        }
        // Legend, lower right inside the plot area.
        if !series.isEmpty {
            let longest = Double(series.map(\.name.count).max() ?? 0)
            let boxWidth = 34 + 6.8 * longest, boxHeight = 8 + 18 * Double(series.count)
            let bx = right - boxWidth - 10, by = bottom - boxHeight - 10
            svg.append(#"<g class="legend"><rect x="\#(f(bx))" y="\#(f(by))" width="\#(f(boxWidth))" height="\#(f(boxHeight))" fill="white" fill-opacity="0.9" stroke="rgb(153,153,153)"/>"#)
            for (i, s) in series.enumerated() {
                let ly = by + 14 + 18 * Double(i), color = Self.palette[i % Self.palette.count]
                svg.append(#"<line x1="\#(f(bx + 6))" y1="\#(f(ly - 4))" x2="\#(f(bx + 26))" y2="\#(f(ly - 4))" stroke="\#(color)" stroke-width="2"/>"#)
                svg.append(#"<text x="\#(f(bx + 30))" y="\#(f(ly))">\#(Self.escape(s.name))</text>"#)
            }
            svg.append("</g>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Writes ``render()`` atomically.
    public func write(to url: URL) throws { try ReportWriter.write(render(), to: url) }

    // MARK: Axes

    static func resolvedRange(_ axis: PlotAxis, values: [Double]) -> ClosedRange<Double> {
        if let range = axis.range { return range }
        let usable = values.filter { $0.isFinite && (axis.scale == .linear || $0 > 0) }
        guard var low = usable.min(), var high = usable.max() else { return axis.scale == .linear ? 0...1 : 1e-4...1 }
        switch axis.scale {
        case .logarithmic:
            low = pow(10, floor(log10(low)))
            high = pow(10, ceil(log10(high)))
            if low == high { low /= 10 }
        case .linear:
            if low == high { (low, high) = (low - 1, high + 1) }
            let step = niceStep((high - low) / 5)
            (low, high) = (floor(low / step) * step, ceil(high / step) * step)
        }
        return low...high
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, floor(log10(raw)))
        let n = raw / magnitude
        return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * magnitude
    }

    static func ticks(_ axis: PlotAxis, _ range: ClosedRange<Double>) -> [(Double, String)] {
        if let explicit = axis.ticks { return explicit.filter { range.contains($0.value) }.map { ($0.value, escape($0.label)) } }
        switch axis.scale {
        case .logarithmic:
            let first = Int(ceil(log10(range.lowerBound) - 1e-9)), last = Int(floor(log10(range.upperBound) + 1e-9))
            guard first <= last else { return [] }
            return (first...last).map { k in (pow(10, Double(k)), k == 0 ? "1" : #"10<tspan dy="-6" font-size="9">\#(k)</tspan>"#) }
        case .linear:
            let step = niceStep((range.upperBound - range.lowerBound) / 5)
            var values: [Double] = []
            var v = ceil(range.lowerBound / step - 1e-9) * step
            while v <= range.upperBound + step * 1e-9 {
                values.append(abs(v) < step * 1e-9 ? 0 : v)
                v += step
            }
            return values.map { ($0, String(format: "%g", $0)) }
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
