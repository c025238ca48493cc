import Tensor

/// CosFace / large-margin cosine loss: `φ(c) = c − m`, default m = 0.35 (Wang et al.,
/// "CosFace: Large Margin Cosine Loss for Deep Face Recognition", CVPR 2018; insightface
/// `sample_config.py` `cosface (1, 0, 0.35)`).
///
/// Paper vs code: arcface_torch's `CosFace` class defaults to m = 0.40; we keep the paper's 0.35.
public struct CosFaceMargin: TargetMargin {
    public let m: Float

    public init(_ m: Float = 0.35) {
        precondition(m >= 0 && m.isFinite, "CosFaceMargin: margin must be non-negative and finite, got \(m)")
        self.m = m
    }

    public func callAsFunction(_ cosine: Float) -> (value: Float, derivative: Float) { (cosine - m, 1) }
}
