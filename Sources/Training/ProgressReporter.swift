import Foundation

/// Training progress: a one-line bar redrawn in place on a terminal (images/s, ETA, every loss
/// term), plain lines at a fixed interval when the output is a file or a pipe.
public final class ProgressReporter {
    private let total: Int
    private let label: String
    private let isTerminal: Bool
    private let lineInterval: Int
    private var start = Date()
    private var startStep = 0
    private var lastDraw = Date.distantPast
    private var images = 0

    /// - Parameters:
    ///   - total: number of steps of the run.
    ///   - lineInterval: steps between plain lines when not on a terminal.
    public init(label: String, total: Int, lineInterval: Int = 50, forceTerminal: Bool? = nil) {
        self.label = label
        self.total = max(total, 1)
        self.lineInterval = max(lineInterval, 1)
        isTerminal = forceTerminal ?? (isatty(STDOUT_FILENO) != 0)
    }

    /// Starts timing at `step` (0, or the step a resumed run continues from), so rates and the
    /// ETA count only the steps this process runs.
    public func begin(atStep step: Int) {
        start = Date()
        startStep = step
        images = 0
    }

    /// Reports the end of step `step` (1-based) that processed `batch` images.
    public func update(step: Int, batch: Int, terms: [(String, Float)]) {
        images += batch
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(images) / elapsed : 0
        let done = step - startStep
        let eta = done > 0 ? elapsed / Double(done) * Double(total - step) : 0
        let values = terms.map { "\($0.0) \(String(format: "%.4g", Double($0.1)))" }.joined(separator: "  ")
        if isTerminal {
            guard Date().timeIntervalSince(lastDraw) > 0.1 || step == total else { return }
            lastDraw = Date()
            let width = 24, filled = width * step / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\(label) \(bar) \(step)/\(total)  \(String(format: "%.1f", rate)) img/s  ETA \(Self.clock(eta))  \(values)"
            FileHandle.standardOutput.write(("\u{1B}[2K" + line + (step == total ? "\n" : "")).data(using: .utf8)!)
        } else if step % lineInterval == 0 || step == total || step == 1 {
            print("\(label) step \(step)/\(total)  \(String(format: "%.1f", rate)) img/s  ETA \(Self.clock(eta))  \(values)")
            fflush(nil)  // reach a log file or pipe now, not when the buffer fills
        }
    }

    /// `m:ss` or `h:mm:ss`; beyond 10 000 hours (a run of absurdly many steps) just that.
    static func clock(_ seconds: Double) -> String {
        guard seconds < 36_000_000 else { return seconds.isNaN ? "?" : "> 10000 h" }
        let s = seconds > 0 ? Int(seconds.rounded()) : 0
        return s >= 3600 ? String(format: "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60) : String(format: "%ld:%02ld", s / 60, s % 60)
    }
}
