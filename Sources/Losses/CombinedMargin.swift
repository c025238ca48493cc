import Foundation
import Tensor

/// Combined margin `φ(c) = cos(m1·θ + m2) − m3` with `θ = acos c` (insightface's combined
/// loss, 2018 `train_softmax.py` loss_type 5; `sample_config.py` `combined (1, 0.3, 0.2)`).
/// `(1, 0, 0)` is normalised softmax, `(1, m, 0)` ArcFace without the threshold fallback,
/// `(1, 0, m)` CosFace, `(m, 0, 0)` SphereFace-style.
///
/// The gradient is exact: `φ′(c) = m1·sin(m1·θ + m2) / sin θ` (`sin θ` floored at 1e-6).
/// Like insightface's loss_type 5 it has no threshold fallback. Paper vs code: arcface_torch's
/// `CombinedMarginLoss` ignores m2 whenever m3 > 0 (so `(1, 0.3, 0.2)` silently becomes
/// CosFace 0.2); we apply all three margins.
public struct CombinedMargin: TargetMargin {
    public let m1: Float, m2: Float, m3: Float

    public init(m1: Float = 1, m2: Float = 0.3, m3: Float = 0.2) {
        precondition(m1 > 0 && m2 >= 0 && m3 >= 0 && m1.isFinite && m2.isFinite && m3.isFinite,
                     "CombinedMargin: need finite m1 > 0, m2 ≥ 0, m3 ≥ 0, got (\(m1), \(m2), \(m3))")
        self.m1 = m1
        self.m2 = m2
        self.m3 = m3
    }

    public func callAsFunction(_ cosine: Float) -> (value: Float, derivative: Float) {
        let c = min(max(cosine, -1), 1)
        let theta = acos(c)
        let sinTheta = max((1 - c * c).squareRoot(), 1e-6)
        let angle = m1 * theta + m2
        return (cos(angle) - m3, m1 * sin(angle) / sinTheta)
    }
}
