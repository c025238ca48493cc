import Tensor

/// Sums values over the processes of a data-parallel run (an all-reduce): every process calls
/// it at the same points, in the same order and with as many values, and gets the same sums.
/// The `Distributed` module's `ProcessGroup` is one; ``BatchNorm/synchronisation`` uses it for
/// synchronised batch statistics.
public protocol CrossProcessSum: AnyObject {
    /// `values` summed element-wise over the processes.
    func sum(_ values: [Float]) -> [Float]
}

extension Tensor {
    /// This tensor summed element-wise over the processes of `processes`; its gradient is the
    /// incoming gradient summed the same way (the adjoint of an all-reduce over the sum of the
    /// processes' losses).
    public func summed(across processes: any CrossProcessSum) -> Tensor {
        let value = Tensor(shape: shape, scalars: processes.sum(scalars))
        guard Tensor.needsGradient(self) else { return value }
        return Tensor.recordOperation("summedAcrossProcesses", value: value, inputs: [self]) { g in
            [Tensor(shape: g.shape, scalars: processes.sum(g.scalars))]
        }
    }
}

extension BatchNorm {
    /// Training-mode batch normalisation with the statistics of the global batch (synchronised
    /// BatchNorm, PyTorch's `SyncBatchNorm`): per channel
    ///
    ///     μ = Σ_ranks Σ x / n,   σ² = Σ_ranks Σ (x − μ)² / n,   y = (x − μ)/√(σ² + ε)·γ + β,
    ///
    /// `n` the number of values per channel over all processes. Composed of differentiable
    /// operations around two cross-process sums, so autograd gives the gradient of the
    /// processes' summed loss, the statistics' share from every process. Returns the output, the
    /// statistics and `n` (for the running statistics).
    func synchronisedNormalization(_ x: Tensor, processes: any CrossProcessSum) -> (output: Tensor, mean: Tensor, variance: Tensor, count: Int) {
        let axes = [0] + Array(2..<x.rank)
        let perChannel = x.count / featureCount
        let count = Int(processes.sum([Float(perChannel)])[0])
        let broadcastShape = [1, featureCount] + Array(repeating: 1, count: x.rank - 2)
        let mean = x.sum(alongAxes: axes).summed(across: processes) * (1 / Float(count))
        let centered = x - mean.reshaped(to: broadcastShape)
        let variance = centered.square().sum(alongAxes: axes).summed(across: processes) * (1 / Float(count))
        var y = centered * (variance + epsilon).rsqrt().reshaped(to: broadcastShape)
        if let weight { y = y * weight.value.reshaped(to: broadcastShape) }
        if let bias { y = y + bias.value.reshaped(to: broadcastShape) }
        return (y, mean.detached(), variance.detached(), count)
    }
}
