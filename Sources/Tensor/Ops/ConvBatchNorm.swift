extension Tensor {
    /// Evaluation-mode `conv2d → batchNorm(mean:variance:…)`, optionally `→ prelu(slope:)`, with
    /// the normalisation (the per-channel map `y = s·y + t`, `s = γ/√(σ² + ε)`, `t = β − μ·s`)
    /// and the PReLU applied to each output plane as the convolution produces it, instead of in
    /// separate passes over the whole output: a frozen teacher's `Conv → BN → PReLU` blocks.
    ///
    /// With `residual` (a tensor of the output's shape), the result is `… + residual`, added to
    /// each plane as well: the sum that closes a residual block (`x + LinearBlock(x)` in
    /// MobileFaceNet), without a separate pass over the output.
    ///
    /// Results equal the ops run one after the other. When any operand needs a gradient, it runs
    /// them one after the other (the normalised tensor is needed for the backward pass).
    /// `slope` is `[O]` or `[1]`; `mean`, `variance`, `normWeight` and `normBias` are `[O]`.
    public static func conv2dBatchNorm(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                                       padding: Size2D = 0, dilation: Size2D = 1, groups: Int = 1,
                                       mean: Tensor, variance: Tensor, normWeight: Tensor?, normBias: Tensor?,
                                       slope: Tensor? = nil, adding residual: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
        let g = ConvGeometry(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                             padding: padding, dilation: dilation, groups: groups)
        if let residual {
            precondition(residual.shape == g.outputShape,
                         "conv2dBatchNorm: residual \(residual.shape) differs from the output \(g.outputShape) of input \(input.shape)")
        }
        let operands = [input, weight, bias, normWeight, normBias, slope, residual].compactMap { $0 }
        if operands.contains(where: { Tensor.needsGradient($0) }) {
            let y = conv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
            let normalized = slope.map {
                batchNormPReLU(y, mean: mean, variance: variance, weight: normWeight, bias: normBias, slope: $0, epsilon: epsilon)
            } ?? batchNorm(y, mean: mean, variance: variance, weight: normWeight, bias: normBias, epsilon: epsilon)
            return residual.map { normalized + $0 } ?? normalized
        }
        let l = checkedLayout(g.outputShape, normWeight, normBias)
        checkStatistics(mean, variance, l)
        let perChannelSlope = slope.map { checkedSlope($0, l) } ?? false
        let (scale, shift, _) = foldedStatistics(mean: mean, variance: variance, weight: normWeight, bias: normBias,
                                                 epsilon: epsilon, channels: l.channels)
        var epilogue = ChannelEpilogue(scale: scale.base, shift: shift.base, slope: slope.map { UnsafePointer($0.storage.base) },
                                       perChannelSlope: perChannelSlope)
        return Tensor(shape: g.outputShape) { out in
            if let residual { epilogue.residual = (UnsafePointer(residual.storage.base), out.baseAddress!) }
            g.forward(x: input.storage.base, w: weight.storage.base, bias: bias?.storage.base, y: out.baseAddress!,
                      epilogue: epilogue)
            withExtendedLifetime((scale, shift, slope, residual)) {}
        }
    }
}
