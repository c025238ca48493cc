import Tensor

/// Gradient clipping by global norm (PyTorch `clip_grad_norm_`):
/// `g ← g · min(1, maxNorm / (‖g‖ + 1e-6))` with `‖g‖` the L2 norm over all `parameters`.
///
/// Every gradient in the store is scaled by the same factor (PyTorch scales only those of
/// `parameters`). The squares are summed in double precision, so a norm PyTorch's float32 sum
/// would overflow to ∞ (and clip every gradient to 0) is finite here. Returns the clipped store
/// and the norm before clipping; a NaN norm makes every gradient NaN, as in PyTorch, so that a
/// NaN anywhere cannot pass unclipped.
public func clipByGlobalNorm(_ gradients: Gradients, parameters: [Parameter], maxNorm: Float) -> (gradients: Gradients, norm: Float) {
    precondition(maxNorm > 0, "clipByGlobalNorm: maxNorm must be positive, got \(maxNorm)")
    var squares: Double = 0
    for parameter in parameters {
        guard let g = gradients[parameter] else { continue }
        g.withUnsafeBufferPointer { buffer in for x in buffer { squares += Double(x) * Double(x) } }
    }
    let norm = Float(squares.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    guard scale < 1 || scale.isNaN else { return (gradients, norm) }
    return (gradients.mapGradients { $0 * scale }, norm)
}
