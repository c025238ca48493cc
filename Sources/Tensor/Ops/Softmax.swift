/// Softmax and log-softmax along an axis, computed stably (max subtracted) with fused
/// backward passes: `dx = y ⊙ (g − Σ g⊙y)` and `dx = g − softmax ⊙ Σ g`.
extension Tensor {
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "softmax")
        guard shape[a] > 0 else { return self }  // nothing to normalise (PyTorch: the empty tensor)
        let shifted = withoutGradients { self - max(alongAxis: a, keepingDimensions: true) }
        let e = withoutGradients { shifted.exp() }
        let y = withoutGradients { e / e.sum(alongAxis: a, keepingDimensions: true) }
        guard Tensor.needsGradient(self) else { return y }
        return Tensor.recordOperation("softmax", value: y, inputs: [self]) { g in
            [y * (g - (g * y).sum(alongAxis: a, keepingDimensions: true))]
        }
    }

    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "logSoftmax")
        guard shape[a] > 0 else { return self }
        // `(x − m) − log Σ exp(x − m)`: subtracting `m + log Σ` instead would round the small
        // `log Σ` away against a large `m` (logits of 1000: errors of 6e-5).
        let y = withoutGradients { () -> Tensor in
            let shifted = self - max(alongAxis: a, keepingDimensions: true).replacingNonFinite(with: 0)
            return shifted - shifted.exp().sum(alongAxis: a, keepingDimensions: true).log()
        }
        guard Tensor.needsGradient(self) else { return y }
        return Tensor.recordOperation("logSoftmax", value: y, inputs: [self]) { g in
            [g - y.exp() * g.sum(alongAxis: a, keepingDimensions: true)]
        }
    }
}
