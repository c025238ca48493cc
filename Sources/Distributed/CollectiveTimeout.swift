import Foundation

/// How long one collective of a ``ProcessGroup`` may wait for the other ranks before the
/// job is aborted (PyTorch's process-group `timeout`): a rank that hung, failed without
/// aborting or took another branch would otherwise hold every other rank in the collective
/// forever. Default 30 minutes; ``off`` waits without limit.
public struct CollectiveTimeout: Sendable, Equatable, CustomStringConvertible {
    /// The limit in seconds; `nil`: no limit.
    public let seconds: Double?

    /// 30 minutes (PyTorch's default for Gloo and NCCL).
    public static let standard = CollectiveTimeout(limit: 1800)
    /// No limit: a collective waits as long as it takes.
    public static let off = CollectiveTimeout(limit: nil)

    /// The environment variable the `crossres` command line reads (``environment(_:)``).
    public static let variable = "CROSSRES_COLLECTIVE_TIMEOUT"

    private init(limit: Double?) { seconds = limit }

    /// A limit of `seconds` (0: ``off``); a negative or non-finite value is refused.
    public init(seconds: Double) throws(DistributedError) {
        guard seconds.isFinite && seconds >= 0 else { throw .invalidCollectiveTimeout(value: "\(seconds)", source: "CollectiveTimeout(seconds:)") }
        self.init(limit: seconds == 0 ? nil : seconds)
    }

    /// `text` as a timeout: seconds (`1800`, `2.5`), or `0` or `off` for none. `source` names
    /// where the text came from in the error (``DistributedError/invalidCollectiveTimeout(value:source:)``).
    public init(parsing text: String, from source: String = variable) throws(DistributedError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "off" { self = .off; return }
        guard let value = Double(trimmed), let timeout = try? CollectiveTimeout(seconds: value) else {
            throw .invalidCollectiveTimeout(value: text, source: source)
        }
        self = timeout
    }

    /// The timeout `CROSSRES_COLLECTIVE_TIMEOUT` sets in `environment` (``standard`` when unset).
    public static func environment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(DistributedError) -> CollectiveTimeout {
        guard let text = environment[variable] else { return .standard }
        return try CollectiveTimeout(parsing: text, from: variable)
    }

    /// The limit in nanoseconds (0: none), capped at about 31 years.
    var nanoseconds: UInt64 {
        guard let seconds else { return 0 }
        return seconds >= 1e9 ? 1_000_000_000_000_000_000 : max(1, UInt64(seconds * 1e9))
    }

    /// `30 min`, `2 s`, `2.5 s` or `off`.
    public var description: String {
        guard let seconds else { return "off" }
        if seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return seconds == seconds.rounded() && seconds < 1e15 ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
