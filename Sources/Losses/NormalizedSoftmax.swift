/// No margin: `φ(c) = c` — normalised softmax (Wang et al., "NormFace: L2 Hypersphere
/// Embedding for Face Verification", ACM MM 2017; insightface `nsoftmax`, margins (1, 0, 0)).
public struct NoMargin: TargetMargin {
    public init() {}
    public func callAsFunction(_ cosine: Float) -> (value: Float, derivative: Float) { (cosine, 1) }
}
