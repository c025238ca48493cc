import Foundation
import Tensor
import Layers

/// Gradient reversal (Ganin & Lempitsky, "Unsupervised Domain Adaptation by
/// Backpropagation", ICML 2015): identity forward, `−λ·g` backward.
///
/// Placed between a feature extractor and a domain classifier, one minimisation of the domain
/// loss trains the classifier to tell domains apart and the extractor to confuse it.
public func gradientReversal(_ x: Tensor, lambda: Float) -> Tensor {
    precondition(lambda.isFinite && lambda >= 0, "gradientReversal: λ must be finite and non-negative, got \(lambda)")
    guard Tensor.needsGradient(x) else { return x }
    return Tensor.recordOperation("gradientReversal", value: x.detached(), inputs: [x]) { g in [g * -lambda] }
}

/// The gradient-reversal layer, for use inside a ``Sequential``-style network.
public final class GradientReversal: Layer {
    /// The reversal strength λ (set it from ``DANNSchedule/lambda(progress:gamma:)`` each step).
    public var lambda: Float

    public init(lambda: Float = 1) { self.lambda = lambda }

    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(gradientReversal(x, lambda: lambda)) }
}

/// DANN's schedule for the reversal strength: `λ_p = 2 / (1 + e^{−γp}) − 1`, γ = 10, rising from
/// 0 at `p = 0` to ≈ 1 (Ganin et al., JMLR 2016; the same in pumpikano/tf-dann, fungtion/DANN
/// and SSPP-DAN's `train_model.py`). Damps the noisy domain signal early in training.
public enum DANNSchedule {
    public static func lambda(progress p: Float, gamma: Float = 10) -> Float {
        precondition(p >= 0 && p <= 1, "DANNSchedule.lambda: progress must be in [0, 1], got \(p)")
        return 2 / (1 + exp(-gamma * p)) - 1
    }
}
