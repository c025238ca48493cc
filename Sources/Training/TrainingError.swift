/// Why a training run stopped or could not start.
public enum TrainingError: Error, CustomStringConvertible {
    /// A loss term, gradient or statistic became NaN or infinite.
    case nonFinite(step: Int, what: String, lastCheckpoint: String?)
    /// An ADDA critic collapsed and the run was set to stop on it (``CriticCollapseDetector/stops``).
    case criticCollapse(step: Int, detail: String, lastCheckpoint: String?)
    /// The run folder exists and overwriting was not allowed.
    case runFolderExists(String)
    /// A checkpoint could not be read or does not fit the models.
    case badCheckpoint(path: String, reason: String)
    /// A configuration value is invalid.
    case invalidConfiguration(String)
    /// Another process of a data-parallel run failed where every process decides together
    /// (``ProcessAgreement/together(_:_:)``), so this one stops with it: `what` is that process's
    /// error, quoted, and its rank (`"run folder runs/x already exists; …" on rank 0`).
    case stoppedTogether(String)

    public var description: String {
        switch self {
        case let .nonFinite(step, what, last):
            return "training stopped at step \(step): \(what) is not finite (NaN or Inf)"
                + (last.map { "; the last good checkpoint is kept at \($0)" } ?? "; no checkpoint was written yet (start the run again with a change, a lower learning rate say: a resume would repeat it)")
        case let .criticCollapse(step, detail, last):
            return "training stopped at step \(step): \(detail)"
                + (last.map { "; the last checkpoint is kept at \($0)" } ?? "; no checkpoint was written yet")
        case let .runFolderExists(path):
            return "run folder \(path) already exists; choose another --output or pass --force to overwrite it"
        case let .badCheckpoint(path, reason):
            return "checkpoint \(path): \(reason)"
        case let .invalidConfiguration(message):
            return "invalid configuration: \(message)"
        case let .stoppedTogether(what):
            return "stopped because another process failed: \(what)"
        }
    }
}
