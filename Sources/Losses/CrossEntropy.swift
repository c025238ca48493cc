import Tensor

/// Softmax cross-entropy of `[B, C]` logits against integer labels.
///
///     ℓ_b = −(1 − ε)·log p_{b,y_b} − (ε / C)·Σ_j log p_{b,j},     p = softmax(z_b)
///
/// `labelSmoothing` ε ∈ [0, 1) spreads ε of the target mass uniformly over all classes
/// (Szegedy et al., "Rethinking the Inception Architecture", CVPR 2016; PyTorch's
/// `CrossEntropyLoss(label_smoothing:)` convention). ε = 0 is plain cross-entropy.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int], labelSmoothing: Float = 0,
                                reduction: LossReduction = .mean) -> Tensor {
    precondition(labelSmoothing >= 0 && labelSmoothing < 1,
                 "softmaxCrossEntropy: labelSmoothing must be in [0, 1), got \(labelSmoothing)")
    checkClassificationInputs(logits, labels, "softmaxCrossEntropy", what: "logits")
    let logProbabilities = logits.logSoftmax(alongAxis: 1)
    var perSample = -logProbabilities.gatherRows(labels)
    if labelSmoothing > 0 {
        let uniform = -logProbabilities.mean(alongAxis: 1)
        perSample = perSample * (1 - labelSmoothing) + uniform * labelSmoothing
    }
    return reduction.apply(perSample)
}

/// Negative log-likelihood of `[B, C]` log-probabilities: `ℓ_b = −log p_{b,y_b}`
/// (PyTorch `NLLLoss`; feed it `logSoftmax` outputs).
public func negativeLogLikelihood(logProbabilities: Tensor, labels: [Int],
                                  reduction: LossReduction = .mean) -> Tensor {
    checkClassificationInputs(logProbabilities, labels, "negativeLogLikelihood", what: "logProbabilities")
    return reduction.apply(-logProbabilities.gatherRows(labels))
}

/// Shape and label checks shared by the classification losses.
func checkClassificationInputs(_ scores: Tensor, _ labels: [Int], _ function: String, what: String) {
    trapping { try classificationInputs(scores.shape, labels, function, what: what) }
}

/// Throws a ``LossInputError`` (named `function`) unless `labels` fit `[B, classes]` scores of
/// `shape`: one label per row, at least one row, each label in `0..<classes`.
func classificationInputs(_ shape: [Int], _ labels: [Int], _ function: String, what: String) throws {
    func fail(_ message: String) -> LossInputError { LossInputError(loss: function, message: message) }
    guard shape.count == 2 else { throw fail("\(what) must be [B, classes], got shape \(shape)") }
    guard shape[0] == labels.count else { throw fail("\(what) have batch size \(shape[0]) but \(labels.count) labels were given") }
    guard shape[0] > 0 else { throw fail("empty batch") }
    if let bad = labels.first(where: { $0 < 0 || $0 >= shape[1] }) {
        throw fail("label \(bad) is out of range 0..<\(shape[1])")
    }
}
