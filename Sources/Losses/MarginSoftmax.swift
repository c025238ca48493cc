import Tensor

/// Fused margin-softmax cross-entropy: the loss of every cosine-margin head.
///
/// For cosines `c = [B, C]` (`c_{bj} = Ŵ_jᵀ x̂_b`), target labels `y`, scale `s` and a target
/// margin `φ`:
///
///     z_{bj} = s·c_{bj}  (j ≠ y_b),   z_{b y_b} = s·φ(c_{b y_b}),   ℓ_b = logsumexp(z_b) − z_{b y_b}
///                                                                  = log1p(Σ_{j≠k} e^{z_{bj}−m}) + (m − z_{b y_b})
///     (m = z_{bk} the row's largest logit: the loss of a confident row keeps its relative accuracy)
///     ∂ℓ_b/∂c_{bj} = s·p_{bj}  (j ≠ y_b),   ∂ℓ_b/∂c_{b y_b} = s·(p_{b y_b} − 1)·φ′(c_{b y_b})
///
/// One pass over the `[B, C]` cosines with raw kernels (rows in parallel), instead of the
/// half-dozen tensor ops of the composed form — the head over many identities is the hot
/// spot of face-recognition training. `margin` returns `(φ(c), φ′(c))`; the derivative it
/// returns is what the backward pass uses, which is how the straight-through ArcFace variant
/// is expressed.
public func marginSoftmaxCrossEntropy(cosines: Tensor, labels: [Int], scale: Float,
                                      reduction: LossReduction = .mean,
                                      margin: (Float) -> (value: Float, derivative: Float)) -> Tensor {
    checkClassificationInputs(cosines, labels, "marginSoftmaxCrossEntropy", what: "cosines")
    precondition(scale > 0, "marginSoftmaxCrossEntropy: scale must be positive, got \(scale)")
    let rows = cosines.shape[0], classes = cosines.shape[1]
    // Target margins per row: value and derivative.
    var phi = [Float](repeating: 0, count: rows), dPhi = [Float](repeating: 0, count: rows)
    let c = cosines.storage.base
    for b in 0..<rows {
        let (v, d) = margin(c[b &* classes &+ labels[b]])
        phi[b] = v
        dPhi[b] = d
    }
    let needsGradient = Tensor.needsGradient(cosines)
    let probabilities = TensorStorage(count: needsGradient ? rows * classes : 0)
    let loss = Tensor(shape: [rows]) { out in
        let p = probabilities.base
        phi.withUnsafeBufferPointer { phi in
            parallelFor(rows, grain: max(1, 4096 / max(classes, 1))) { range in
                for b in range {
                    let row = c + b &* classes, y = labels[b]
                    let target = scale * phi[b]
                    @inline(__always) func logit(_ j: Int) -> Float { j == y ? target : scale * row[j] }
                    var m = target, top = y
                    for j in 0..<classes where j != y && scale * row[j] > m { m = scale * row[j]; top = j }
                    // `Σ exp(z − m) = 1 + rest` (the maximum's term is 1): `log1p(rest)` keeps the
                    // accuracy of a small loss that `log(1 + rest)` would round to float spacing.
                    var rest: Float = 0
                    if needsGradient {
                        let prow = p + b &* classes
                        for j in 0..<classes {
                            let e = j == top ? 1 : Foundation.exp(logit(j) - m)
                            prow[j] = e
                            if j != top { rest += e }
                        }
                        let inverse = 1 / (1 + rest)
                        for j in 0..<classes { prow[j] *= inverse }
                    } else {
                        for j in 0..<classes where j != top { rest += Foundation.exp(logit(j) - m) }
                    }
                    // `m − target` first: adding `log Σ` (small) to `m` (as large as the scale) would round it away.
                    out[b] = Foundation.log1p(rest) + (m - target)
                }
            }
        }
    }
    guard needsGradient else { return reduction.apply(loss) }
    let perSample = Tensor.recordOperation("marginSoftmaxCrossEntropy", value: loss, inputs: [cosines]) { g in
        let gradient = Tensor(shape: [rows, classes]) { out in
            let p = probabilities.base, gb = g.storage.base, dst = out.baseAddress!
            parallelFor(rows, grain: max(1, 4096 / max(classes, 1))) { range in
                for b in range {
                    let k = gb[b] * scale, prow = p + b &* classes, drow = dst + b &* classes
                    for j in 0..<classes { drow[j] = k * prow[j] }
                    let y = labels[b]
                    drow[y] = k * (prow[y] - 1) * dPhi[b]
                }
            }
        }
        return [gradient]
    }
    return reduction.apply(perSample)
}

import Foundation
