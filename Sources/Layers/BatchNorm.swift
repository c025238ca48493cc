import Tensor

/// Batch normalisation over the channel axis 1 (Ioffe & Szegedy, ICML 2015), with PyTorch's
/// `nn.BatchNorm1d/2d` semantics:
///
/// - training: normalise with the batch mean and biased variance; update
///   `running_mean ← (1 − m)·running_mean + m·μ` and `running_var ← (1 − m)·running_var + m·σ²·M/(M − 1)`
///   (unbiased, `M` values per channel), `num_batches_tracked += 1`; `momentum == nil` uses the
///   cumulative average `m = 1/num_batches_tracked`.
/// - evaluation: normalise with the running statistics.
///
/// Parameters `weight` (γ, ones) and `bias` (β, zeros) when `affine`; buffers `running_mean`
/// (zeros), `running_var` (ones) and `num_batches_tracked` (saved as int64) when
/// `trackRunningStats`. Without running statistics both modes use batch statistics.
public class BatchNorm: Layer {
    public let weight: Parameter?
    public let bias: Parameter?
    public let runningMean: Buffer?
    public let runningVar: Buffer?
    public let numBatchesTracked: Buffer?
    public let momentum: Float?
    public let epsilon: Float
    /// Number of channels `C`.
    public let featureCount: Int
    public var isTraining = true
    /// When set, training mode normalises with the statistics of the global batch of a
    /// data-parallel run, summed over its processes (synchronised BatchNorm); `nil`: each
    /// process's own batch. The `Distributed` module's `ProcessGroup.synchroniseBatchNorm(in:)`
    /// sets it on every BatchNorm of a model.
    public var synchronisation: (any CrossProcessSum)?
    /// Input ranks this layer accepts.
    let ranks: Set<Int>

    init(_ features: Int, momentum: Float?, epsilon: Float, affine: Bool, trackRunningStats: Bool, ranks: Set<Int>) {
        precondition(features > 0, "BatchNorm: feature count must be positive, got \(features)")
        precondition(momentum.map { $0 >= 0 && $0 <= 1 } ?? true, "BatchNorm: momentum must be in [0, 1], got \(momentum!)")
        precondition(epsilon > 0, "BatchNorm: epsilon must be positive, got \(epsilon)")
        weight = affine ? Parameter(.ones([features])) : nil
        bias = affine ? Parameter(.zeros([features])) : nil
        runningMean = trackRunningStats ? Buffer(.zeros([features])) : nil
        runningVar = trackRunningStats ? Buffer(.ones([features])) : nil
        numBatchesTracked = trackRunningStats ? Buffer(.zeros([])) : nil
        self.momentum = momentum
        self.epsilon = epsilon
        self.ranks = ranks
        featureCount = features
    }


    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(normalize(x, prelu: nil)) }

    /// `prelu(self(x))` as one fused kernel (the normalised tensor is never stored); what
    /// ``Sequential`` runs for a BatchNorm directly followed by a PReLU.
    public func callAsFunction(_ x: Tensor, followedBy prelu: PReLU) -> Tensor {
        let y = recorded(normalize(x, prelu: prelu))
        return prelu.recorded(y)
    }

    /// `self(conv(x))`, or `prelu(self(conv(x)))`, plus `residual` when given, with the
    /// normalisation (and the PReLU, and the sum) applied to each output plane as the
    /// convolution produces it when evaluating with running statistics
    /// (``Tensor/Tensor/conv2dBatchNorm(_:weight:bias:stride:padding:dilation:groups:mean:variance:normWeight:normBias:slope:adding:epsilon:)``);
    /// what ``Sequential`` runs for a Conv2d directly followed by a BatchNorm.
    public func callAsFunction(_ x: Tensor, after conv: Conv2d, followedBy prelu: PReLU? = nil, adding residual: Tensor? = nil)
        -> Tensor {
        guard !isTraining, let runningMean, let runningVar else {
            let y = conv(x)
            let normalized = prelu.map { callAsFunction(y, followedBy: $0) } ?? callAsFunction(y)
            return residual.map { normalized.addingResidual($0, in: "\(type(of: self))(\(featureCount))") } ?? normalized
        }
        precondition(conv.outChannels == featureCount,
                     "\(type(of: self))(\(featureCount)): follows a Conv2d with \(conv.outChannels) output channels")
        // A convolution's output has rank 4: only BatchNorm2d takes it (in training too).
        precondition(ranks.contains(4), "\(type(of: self))(\(featureCount)): input of a Conv2d has rank 4, this layer takes rank \(ranks.sorted())")
        let y = Tensor.conv2dBatchNorm(x, weight: conv.weight.value, bias: conv.bias?.value, stride: conv.stride,
                                       padding: conv.padding, dilation: conv.dilation, groups: conv.groups,
                                       mean: runningMean.value, variance: runningVar.value, normWeight: weight?.value,
                                       normBias: bias?.value, slope: prelu?.weight.value, adding: residual, epsilon: epsilon)
        _ = conv.recorded(y)  // the same shape as the convolution's own output
        let normalized = recorded(y)
        return prelu?.recorded(normalized) ?? normalized
    }

    private func normalize(_ x: Tensor, prelu: PReLU?) -> Tensor {
        precondition(ranks.contains(x.rank) && x.shape[1] == featureCount,
                     "\(type(of: self))(\(featureCount)): input of shape \(x.shape) must have rank \(ranks.sorted()) and \(featureCount) channels")
        let slope = prelu?.weight.value
        if !isTraining, let runningMean, let runningVar {
            if let slope {
                return Tensor.batchNormPReLU(x, mean: runningMean.value, variance: runningVar.value, weight: weight?.value,
                                             bias: bias?.value, slope: slope, epsilon: epsilon)
            }
            return Tensor.batchNorm(x, mean: runningMean.value, variance: runningVar.value,
                                    weight: weight?.value, bias: bias?.value, epsilon: epsilon)
        }
        var perChannel = x.count / featureCount  // over every process when synchronised
        let y: Tensor, mean: Tensor, variance: Tensor
        if isTraining, let synchronisation {
            let normalized: Tensor
            (normalized, mean, variance, perChannel) = synchronisedNormalization(x, processes: synchronisation)
            y = slope.map { normalized.prelu(slope: $0) } ?? normalized
        } else {
            (y, mean, variance) = slope.map {
                Tensor.batchNormPReLU(x, weight: weight?.value, bias: bias?.value, slope: $0, epsilon: epsilon)
            } ?? Tensor.batchNorm(x, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
        }
        // Batch statistics of one value per channel are that value (the output would be β): an error,
        // as in PyTorch, whether training or evaluating without running statistics.
        precondition(perChannel > 1,
                     "\(type(of: self)): expected more than 1 value per channel when normalising with batch statistics, got input of shape \(x.shape)"
                        + (synchronisation == nil ? "" : " (\(perChannel) over all processes)"))
        if isTraining, let runningMean, let runningVar, let numBatchesTracked {
            let batches = numBatchesTracked.value.item + 1
            numBatchesTracked.value = Tensor(batches)
            let m = momentum ?? 1 / batches
            let correction = Float(perChannel) / Float(perChannel - 1)
            runningMean.value = Self.blend(runningMean.value, mean, m, 1)
            runningVar.value = Self.blend(runningVar.value, variance, m, correction)
        }
        return y
    }

    /// `(1 − m)·old + m·c·new` elementwise.
    private static func blend(_ old: Tensor, _ new: Tensor, _ m: Float, _ c: Float) -> Tensor {
        Tensor(shape: old.shape) { out in
            for i in 0..<out.count { out[i] = (1 - m) * old.storage.base[i] + m * c * new.storage.base[i] }
        }
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs (PyTorch `nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
    public init(_ features: Int, momentum: Float? = 0.1, epsilon: Float = 1e-5, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(features, momentum: momentum, epsilon: epsilon, affine: affine, trackRunningStats: trackRunningStats, ranks: [2, 3])
    }
}

/// Batch normalisation of `[N, C, H, W]` inputs (PyTorch `nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
    public init(_ features: Int, momentum: Float? = 0.1, epsilon: Float = 1e-5, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(features, momentum: momentum, epsilon: epsilon, affine: affine, trackRunningStats: trackRunningStats, ranks: [4])
    }
}
