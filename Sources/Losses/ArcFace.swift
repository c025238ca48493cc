import Foundation
import Tensor

/// ArcFace, additive angular margin: `φ(c) = cos(θ + m)`, default m = 0.5, s = 64 (Deng et al.,
/// "ArcFace: Additive Angular Margin Loss for Deep Face Recognition", CVPR 2019).
///
/// Computed from the cosine as `c·cos m − sin θ·sin m`, `sin θ = √(1 − c²)`, with the exact
/// derivative `φ′(c) = cos m + c·sin m / sin θ` (`sin θ` floored at 1e-6).
///
/// **Fallback** past `θ + m > π`, where `cos(θ + m)` would grow again with θ:
/// - `.threshold` (default; insightface 2018 `train_softmax.py`, `easy_margin = False`):
///   `φ = c − m·sin m` when `c ≤ cos(π − m)` (a CosFace-like margin that keeps φ monotone);
/// - `.easyMargin`: `φ = c` when `c ≤ 0`;
/// - `.none`: always `cos(θ + m)` (arcface_torch's `CombinedMarginLoss`).
///
/// **Gradient**: `.exact` (default) differentiates φ; `.straightThrough` reproduces
/// arcface_torch's `CombinedMarginLoss` (the margin is added inside `torch.no_grad()`, so the
/// backward pass treats `∂φ/∂c` as 1 — the gradient of plain scaled softmax, said to be more
/// stable for ViTs; deepinsight/insightface#2255, #2309). For bit-compatibility with
/// arcface_torch use `ArcFaceMargin(0.5, fallback: .none, gradient: .straightThrough)`
/// (``arcfaceTorch``).
public struct ArcFaceMargin: TargetMargin {
    public enum Fallback: Sendable, Equatable { case threshold, easyMargin, none }
    public enum Gradient: Sendable, Equatable { case exact, straightThrough }

    public let m: Float
    public let fallback: Fallback
    public let gradient: Gradient

    public init(_ m: Float = 0.5, fallback: Fallback = .threshold, gradient: Gradient = .exact) {
        precondition(m >= 0 && m < Float.pi, "ArcFaceMargin: margin must be in [0, π), got \(m)")
        self.m = m
        self.fallback = fallback
        self.gradient = gradient
    }

    /// arcface_torch's behaviour: no fallback, straight-through gradient.
    public static let arcfaceTorch = ArcFaceMargin(0.5, fallback: .none, gradient: .straightThrough)

    /// `cos(π − m)`: below it the threshold fallback applies.
    public var threshold: Float { cos(Float.pi - m) }

    public func callAsFunction(_ cosine: Float) -> (value: Float, derivative: Float) {
        let c = min(max(cosine, -1), 1)
        let cosM = cos(m), sinM = sin(m)
        let sinTheta = (1 - c * c).squareRoot()
        var value = c * cosM - sinTheta * sinM
        var derivative = cosM + c * sinM / max(sinTheta, 1e-6)
        switch fallback {
        case .threshold where c <= threshold:
            value = c - m * sinM
            derivative = 1
        case .easyMargin where c <= 0:
            value = c
            derivative = 1
        default:
            break
        }
        return (value, gradient == .exact ? derivative : 1)
    }
}
