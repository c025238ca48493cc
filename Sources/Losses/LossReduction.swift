import Tensor

/// How a loss turns per-sample values into its result.
public enum LossReduction: Sendable, Equatable {
    /// The mean over samples (the default everywhere).
    case mean
    /// The sum over samples.
    case sum
    /// No reduction: one value per sample.
    case none

    /// Reduces a per-sample loss vector `[B]`.
    public func apply(_ perSample: Tensor) -> Tensor {
        switch self {
        case .mean: return perSample.mean()
        case .sum: return perSample.sum()
        case .none: return perSample
        }
    }
}
