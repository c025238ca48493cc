import Tensor
import Layers

/// The margin a cosine head applies to the target class: `φ(cos θ_y)` and the derivative
/// `φ′` its backward pass uses.
///
/// Conform your own margins (AdaFace, MagFace…) to plug them into ``MarginHead``.
public protocol TargetMargin: Sendable {
    /// `(φ(c), φ′(c))` for the target cosine `c ∈ [−1, 1]`.
    func callAsFunction(_ cosine: Float) -> (value: Float, derivative: Float)
}

/// A cosine classification head: class weights `W [classes, D]`, logits `s·Ŵ_jᵀx̂`, and the
/// margin `φ` on the target logit (`s·φ(cos θ_y)`), then softmax cross-entropy.
///
/// Embeddings and class weights are both L2-normalised (Wang et al., "NormFace", 2017). The
/// loss runs as one fused op (``marginSoftmaxCrossEntropy(cosines:labels:scale:reduction:margin:)``).
/// Class weights start from `N(0, 0.01)`, as insightface's `partial_fc`.
///
/// ```swift
/// var g = RandomGenerator(seed: 1)
/// let head = MarginHead.arcFace(classes: 1000, embeddingDimension: 512, using: &g)
/// let loss = head.loss(embedding, labels: labels)
/// ```
public final class MarginHead: Module {
    /// Class centres `[classes, D]` (normalised on use).
    public let weight: Parameter
    /// Logit scale `s` (positive and finite).
    public var scale: Float
    /// The target margin.
    public var margin: any TargetMargin

    public init(classes: Int, embeddingDimension: Int, scale: Float = 64, margin: any TargetMargin,
                using generator: inout RandomGenerator) {
        precondition(classes > 0 && embeddingDimension > 0,
                     "MarginHead: classes (\(classes)) and embeddingDimension (\(embeddingDimension)) must be positive")
        precondition(scale > 0 && scale.isFinite, "MarginHead: scale must be positive and finite, got \(scale)")
        weight = Parameter(Tensor.randomNormal([classes, embeddingDimension], standardDeviation: 0.01, using: &generator))
        self.scale = scale
        self.margin = margin
    }

    /// Number of classes.
    public var classes: Int { weight.shape[0] }
    /// Embedding dimension `D`.
    public var embeddingDimension: Int { weight.shape[1] }

    /// Cosines `Ŵ_jᵀ x̂_b`, `[B, classes]`, for `[B, D]` embeddings.
    public func cosines(_ embedding: Tensor) -> Tensor {
        trapping { try checkEmbedding(embedding.shape) }
        return embedding.l2Normalized(axis: 1).matmul(weight.value.l2Normalized(axis: 1), transposeOther: true)
    }

    /// Throws a ``LossInputError`` unless `[B, D]` embeddings of `embeddingShape` with `labels`
    /// can feed ``loss(_:labels:reduction:)``: `D` the head's ``embeddingDimension``, one label
    /// per row, each in `0..<classes` — what the loss would otherwise stop the program on.
    public func check(embeddingShape: [Int], labels: [Int]) throws {
        try checkEmbedding(embeddingShape)
        try classificationInputs([embeddingShape[0], classes], labels, "MarginHead", what: "embeddings")
    }

    private func checkEmbedding(_ shape: [Int]) throws {
        guard shape.count == 2 && shape[1] == embeddingDimension else {
            throw LossInputError(loss: "MarginHead", message: "embedding must be [B, \(embeddingDimension)], got shape \(shape)")
        }
    }

    /// Logits `s·cos θ` with the margin applied to each sample's target class, `[B, classes]`
    /// (for inspection; ``loss(_:labels:reduction:)`` is the fused equivalent of
    /// `softmaxCrossEntropy(logits:labels:)` on these).
    public func logits(_ embedding: Tensor, labels: [Int]) -> Tensor {
        marginLogits(cosines: cosines(embedding), labels: labels, scale: scale, margin: margin)
    }

    /// Margin softmax cross-entropy of `[B, D]` embeddings against labels.
    public func loss(_ embedding: Tensor, labels: [Int], reduction: LossReduction = .mean) -> Tensor {
        let margin = self.margin
        return marginSoftmaxCrossEntropy(cosines: cosines(embedding), labels: labels, scale: scale,
                                         reduction: reduction) { margin($0) }
    }

    /// Same as ``loss(_:labels:reduction:)``.
    public func callAsFunction(_ embedding: Tensor, labels: [Int]) -> Tensor { loss(embedding, labels: labels) }

    // MARK: Presets (insightface `sample_config.py`: s = 64 throughout)

    /// Normalised softmax (NormFace), margins `(1, 0, 0)`.
    public static func normalizedSoftmax(classes: Int, embeddingDimension: Int, scale: Float = 64,
                                         using generator: inout RandomGenerator) -> MarginHead {
        MarginHead(classes: classes, embeddingDimension: embeddingDimension, scale: scale, margin: NoMargin(), using: &generator)
    }

    /// ArcFace, additive angular margin `cos(θ + m)` (``ArcFaceMargin``).
    public static func arcFace(classes: Int, embeddingDimension: Int, scale: Float = 64, margin: Float = 0.5,
                               fallback: ArcFaceMargin.Fallback = .threshold, gradient: ArcFaceMargin.Gradient = .exact,
                               using generator: inout RandomGenerator) -> MarginHead {
        MarginHead(classes: classes, embeddingDimension: embeddingDimension, scale: scale,
                   margin: ArcFaceMargin(margin, fallback: fallback, gradient: gradient), using: &generator)
    }

    /// CosFace, additive cosine margin `cos θ − m` (``CosFaceMargin``).
    public static func cosFace(classes: Int, embeddingDimension: Int, scale: Float = 64, margin: Float = 0.35,
                               using generator: inout RandomGenerator) -> MarginHead {
        MarginHead(classes: classes, embeddingDimension: embeddingDimension, scale: scale,
                   margin: CosFaceMargin(margin), using: &generator)
    }

    /// Combined margin `cos(m1·θ + m2) − m3` (``CombinedMargin``).
    public static func combined(classes: Int, embeddingDimension: Int, scale: Float = 64,
                                m1: Float = 1, m2: Float = 0.3, m3: Float = 0.2,
                                using generator: inout RandomGenerator) -> MarginHead {
        MarginHead(classes: classes, embeddingDimension: embeddingDimension, scale: scale,
                   margin: CombinedMargin(m1: m1, m2: m2, m3: m3), using: &generator)
    }
}

/// `s·cos` with the target column replaced by `s·φ(cos_y)`, `[B, C]`; backward multiplies the
/// target column's gradient by `φ′`.
public func marginLogits(cosines: Tensor, labels: [Int], scale: Float, margin: any TargetMargin) -> Tensor {
    checkClassificationInputs(cosines, labels, "marginLogits", what: "cosines")
    let rows = cosines.shape[0], classes = cosines.shape[1]
    let c = cosines.storage.base
    let targets = (0..<rows).map { margin(c[$0 * classes + labels[$0]]) }
    let value = Tensor(shape: cosines.shape) { out in
        for i in 0..<out.count { out[i] = scale * c[i] }
        for b in 0..<rows { out[b * classes + labels[b]] = scale * targets[b].value }
    }
    guard Tensor.needsGradient(cosines) else { return value }
    return Tensor.recordOperation("marginLogits", value: value, inputs: [cosines]) { g in
        [Tensor(shape: g.shape) { out in
            let gp = g.storage.base
            for i in 0..<out.count { out[i] = scale * gp[i] }
            for b in 0..<rows { out[b * classes + labels[b]] *= targets[b].derivative }
        }]
    }
}
