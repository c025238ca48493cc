/// Batch normalisation (Ioffe & Szegedy, "Batch Normalization", ICML 2015) over every axis but
/// the channel axis 1 of `[N, C, …]` inputs, as fused kernels with fused backward passes:
///
///     y = (x − μ) / √(σ² + ε) · γ + β
extension Tensor {
    /// Training mode: normalises with the batch statistics `μ`, `σ²` (biased) of each channel and
    /// returns them (constants) so that the caller can update running statistics.
    ///
    /// `weight` (γ) and `bias` (β) are `[C]`, or `nil` for an affine-free normalisation.
    public static func batchNorm(_ input: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let l = checkedTrainingLayout(input.shape, weight, bias)
        let mean = TensorStorage(count: l.channels), variance = TensorStorage(count: l.channels)
        let invstd = TensorStorage(count: l.channels)
        let value = Tensor(shape: input.shape) { out in
            BatchNormKernel.trainingForward(l.layout, x: input.storage.base, gamma: weight?.storage.base, beta: bias?.storage.base,
                                            epsilon: epsilon, y: out.baseAddress!, mean: mean.base,
                                            variance: variance.base, invstd: invstd.base)
        }
        let stats = (Tensor(shape: [l.channels], storage: mean), Tensor(shape: [l.channels], storage: variance))
        let inputs = [input] + [weight, bias].compactMap { $0 }
        guard inputs.contains(where: { Tensor.needsGradient($0) }) else { return (value, stats.0, stats.1) }
        let x = input.detached(), gamma = weight?.detached()
        let needInput = input.node != nil, needWeight = weight?.node != nil, needBias = bias?.node != nil
        let output = recordOperation("batchNorm", value: value, inputs: inputs) { dy in
            let dx: Tensor? = needInput ? Tensor(shape: l.shape) { _ in } : nil
            let dGamma = TensorStorage(count: l.channels), dBeta = TensorStorage(count: l.channels)
            BatchNormKernel.trainingBackward(l.layout, dy: dy.storage.base, x: x.storage.base, mean: mean.base,
                                             invstd: invstd.base, gamma: gamma?.storage.base, dx: dx?.storage.base,
                                             dGamma: dGamma.base, dBeta: dBeta.base)
            return affineGradients(dx, dGamma, dBeta, weight != nil, bias != nil, needWeight, needBias, l.channels)
        }
        return (output, stats.0, stats.1)
    }

    /// Evaluation mode: normalises with given (running) statistics `mean` and `variance` `[C]`,
    /// i.e. the per-channel affine map `y = x·s + t` with `s = γ/√(σ² + ε)`, `t = β − μ·s`.
    /// Gradients flow to `input`, `weight` and `bias` (not to the statistics).
    public static func batchNorm(_ input: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?,
                                 epsilon: Float = 1e-5) -> Tensor {
        let l = checkedLayout(input.shape, weight, bias)
        checkStatistics(mean, variance, l)
        let (scale, shift, invstd) = foldedStatistics(mean: mean, variance: variance, weight: weight, bias: bias,
                                                      epsilon: epsilon, channels: l.channels)
        let value = Tensor(shape: input.shape) { out in
            BatchNormKernel.affine(l.layout, x: input.storage.base, scale: scale.base, shift: shift.base, y: out.baseAddress!)
        }
        let inputs = [input] + [weight, bias].compactMap { $0 }
        guard inputs.contains(where: { Tensor.needsGradient($0) }) else { return value }
        let x = input.detached(), mu = mean.detached()
        let needInput = input.node != nil, needWeight = weight?.node != nil, needBias = bias?.node != nil
        return recordOperation("batchNormInference", value: value, inputs: inputs) { dy in
            var dx: Tensor? = nil
            if needInput {
                let zero = TensorStorage(count: l.channels)
                zero.buffer.initialize(repeating: 0)
                dx = Tensor(shape: l.shape) { out in
                    BatchNormKernel.affine(l.layout, x: dy.storage.base, scale: scale.base, shift: zero.base, y: out.baseAddress!)
                }
            }
            // dγ = Σ dy·(x − μ)·invstd and dβ = Σ dy: the training sums without the input part.
            let dGamma = TensorStorage(count: l.channels), dBeta = TensorStorage(count: l.channels)
            if needWeight || needBias {
                BatchNormKernel.trainingBackward(l.layout, dy: dy.storage.base, x: x.storage.base, mean: mu.storage.base,
                                                 invstd: invstd.base, gamma: nil, dx: nil, dGamma: dGamma.base, dBeta: dBeta.base)
            }
            return affineGradients(dx, dGamma, dBeta, weight != nil, bias != nil, needWeight, needBias, l.channels)
        }
    }

    /// Training-mode batch normalisation followed by PReLU with `slope` (`[C]` or `[1]`), fused:
    /// one pass forward, the normalised tensor recomputed in the backward pass. Same results as
    /// `batchNorm(…).output.prelu(slope:)`.
    public static func batchNormPReLU(_ input: Tensor, weight: Tensor?, bias: Tensor?, slope: Tensor, epsilon: Float = 1e-5)
        -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let l = checkedTrainingLayout(input.shape, weight, bias)
        let perChannel = checkedSlope(slope, l)
        let mean = TensorStorage(count: l.channels), variance = TensorStorage(count: l.channels)
        let invstd = TensorStorage(count: l.channels)
        let value = Tensor(shape: input.shape) { out in
            BatchNormPReLUKernel.trainingForward(l.layout, x: input.storage.base, gamma: weight?.storage.base, beta: bias?.storage.base,
                                                 slope: slope.storage.base, perChannelSlope: perChannel, epsilon: epsilon,
                                                 y: out.baseAddress!, mean: mean.base, variance: variance.base, invstd: invstd.base)
        }
        let stats = (Tensor(shape: [l.channels], storage: mean), Tensor(shape: [l.channels], storage: variance))
        let inputs = [input] + [weight, bias].compactMap { $0 } + [slope]
        guard inputs.contains(where: { Tensor.needsGradient($0) }) else { return (value, stats.0, stats.1) }
        let x = input.detached(), gamma = weight?.detached(), beta = bias?.detached(), a = slope.detached()
        let need = GradientNeeds(input, weight, bias, slope)
        let output = recordOperation("batchNormPReLU", value: value, inputs: inputs) { dy in
            let dx: Tensor? = need.input ? Tensor(shape: l.shape) { _ in } : nil
            let dGamma = TensorStorage(count: l.channels), dBeta = TensorStorage(count: l.channels)
            let dSlope = TensorStorage(count: l.channels)
            BatchNormPReLUKernel.trainingBackward(l.layout, dy: dy.storage.base, x: x.storage.base, mean: mean.base, invstd: invstd.base,
                                                  gamma: gamma?.storage.base, beta: beta?.storage.base, slope: a.storage.base,
                                                  perChannelSlope: perChannel, dx: dx?.storage.base, dGamma: dGamma.base,
                                                  dBeta: dBeta.base, dSlope: dSlope.base)
            return affineGradients(dx, dGamma, dBeta, weight != nil, bias != nil, need.weight, need.bias, l.channels)
                + [need.slope ? slopeGradient(dSlope, l.channels, perChannel) : nil]
        }
        return (output, stats.0, stats.1)
    }

    /// Evaluation-mode batch normalisation with given statistics followed by PReLU, fused (a
    /// frozen teacher's `BN → PReLU` in one pass).
    public static func batchNormPReLU(_ input: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, slope: Tensor,
                                      epsilon: Float = 1e-5) -> Tensor {
        let l = checkedLayout(input.shape, weight, bias)
        let perChannel = checkedSlope(slope, l)
        checkStatistics(mean, variance, l)
        let (scale, shift, invstd) = foldedStatistics(mean: mean, variance: variance, weight: weight, bias: bias,
                                                      epsilon: epsilon, channels: l.channels)
        let value = Tensor(shape: input.shape) { out in
            BatchNormPReLUKernel.inferenceForward(l.layout, x: input.storage.base, scale: scale.base, shift: shift.base,
                                                  slope: slope.storage.base, perChannelSlope: perChannel, y: out.baseAddress!)
        }
        let inputs = [input] + [weight, bias].compactMap { $0 } + [slope]
        guard inputs.contains(where: { Tensor.needsGradient($0) }) else { return value }
        let x = input.detached(), mu = mean.detached(), a = slope.detached()
        let need = GradientNeeds(input, weight, bias, slope)
        return recordOperation("batchNormPReLUInference", value: value, inputs: inputs) { dy in
            let dx: Tensor? = need.input ? Tensor(shape: l.shape) { _ in } : nil
            let dGamma = TensorStorage(count: l.channels), dBeta = TensorStorage(count: l.channels)
            let dSlope = TensorStorage(count: l.channels)
            BatchNormPReLUKernel.inferenceBackward(l.layout, dy: dy.storage.base, x: x.storage.base, mean: mu.storage.base,
                                                   invstd: invstd.base, scale: scale.base, shift: shift.base, slope: a.storage.base,
                                                   perChannelSlope: perChannel, dx: dx?.storage.base, dGamma: dGamma.base,
                                                   dBeta: dBeta.base, dSlope: dSlope.base)
            return affineGradients(dx, dGamma, dBeta, weight != nil, bias != nil, need.weight, need.bias, l.channels)
                + [need.slope ? slopeGradient(dSlope, l.channels, perChannel) : nil]
        }
    }

    /// Running statistics and affine parameters folded into one per-channel affine map,
    /// `y = scale·x + shift` with `invstd = 1/√(σ² + ε)`, `scale = γ·invstd`, `shift = β − μ·scale`.
    static func foldedStatistics(mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, epsilon: Float,
                                         channels: Int) -> (scale: TensorStorage, shift: TensorStorage, invstd: TensorStorage) {
        let scale = TensorStorage(count: channels), shift = TensorStorage(count: channels)
        let invstd = TensorStorage(count: channels)
        for c in 0..<channels {
            let inv = 1 / (variance.storage.base[c] + epsilon).squareRoot()
            invstd.base[c] = inv
            scale.base[c] = inv * (weight?.storage.base[c] ?? 1)
            shift.base[c] = (bias?.storage.base[c] ?? 0) - mean.storage.base[c] * scale.base[c]
        }
        return (scale, shift, invstd)
    }

    /// Which inputs of a fused normalisation need gradients.
    private struct GradientNeeds {
        let input, weight, bias, slope: Bool
        init(_ input: Tensor, _ weight: Tensor?, _ bias: Tensor?, _ slope: Tensor) {
            self.input = input.node != nil
            self.weight = weight?.node != nil
            self.bias = bias?.node != nil
            self.slope = slope.node != nil
        }
    }

    static func checkedSlope(_ slope: Tensor, _ l: CheckedLayout) -> Bool {
        precondition(slope.rank == 1 && (slope.count == l.channels || slope.count == 1),
                     "batchNormPReLU: slope of shape \(slope.shape) must be [\(l.channels)] or [1] for input \(l.shape)")
        return slope.count != 1
    }

    private static func slopeGradient(_ sums: TensorStorage, _ channels: Int, _ perChannel: Bool) -> Tensor {
        let perChannelSums = Tensor(shape: [channels], storage: sums)
        return perChannel ? perChannelSums : perChannelSums.sum().reshaped(to: [1])
    }

    struct CheckedLayout {
        let layout: BatchNormKernel.Layout
        let shape: [Int]
        var channels: Int { layout.channels }
    }

    static func checkedLayout(_ shape: [Int], _ weight: Tensor?, _ bias: Tensor?) -> CheckedLayout {
        precondition(shape.count >= 2, "batchNorm: input must be [N, C, …], got \(shape)")
        let c = shape[1]
        if let weight { precondition(weight.shape == [c], "batchNorm: weight shape \(weight.shape) must be [\(c)] for input \(shape)") }
        if let bias { precondition(bias.shape == [c], "batchNorm: bias shape \(bias.shape) must be [\(c)] for input \(shape)") }
        return CheckedLayout(layout: BatchNormKernel.Layout(shape), shape: shape)
    }

    /// ``checkedLayout(_:_:_:)`` for batch statistics, which need a value in every channel.
    static func checkedTrainingLayout(_ shape: [Int], _ weight: Tensor?, _ bias: Tensor?) -> CheckedLayout {
        let l = checkedLayout(shape, weight, bias)
        precondition(l.channels == 0 || Shape.count(shape) >= l.channels, "batchNorm: batch statistics need values in every channel, got input \(shape)")
        return l
    }

    static func checkStatistics(_ mean: Tensor, _ variance: Tensor, _ l: CheckedLayout) {
        precondition(mean.shape == [l.channels] && variance.shape == [l.channels],
                     "batchNorm: statistics of shapes \(mean.shape), \(variance.shape) for \(l.channels) channels of input \(l.shape)")
    }

    private static func affineGradients(_ dx: Tensor?, _ dGamma: TensorStorage, _ dBeta: TensorStorage, _ hasWeight: Bool,
                                        _ hasBias: Bool, _ needWeight: Bool, _ needBias: Bool, _ channels: Int) -> [Tensor?] {
        var result: [Tensor?] = [dx]
        if hasWeight { result.append(needWeight ? Tensor(shape: [channels], storage: dGamma) : nil) }
        if hasBias { result.append(needBias ? Tensor(shape: [channels], storage: dBeta) : nil) }
        return result
    }
}
