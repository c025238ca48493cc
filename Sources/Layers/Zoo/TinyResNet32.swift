import Tensor

/// A small four-stage ResNet for 32×32 faces, as `TinyResNet32` of the team's PyTorch
/// benchmark definitions (`../shared/bench/pytorch/models.py`, workload W5b), same names:
///
///     stem    conv3×3 3→32 + BN + PReLU                  → 32×32×32
///     stages  BasicBlock 32→32 s1, 32→64 s2, 64→128 s2, 128→256 s2 (1×1 `short`cuts)
///                                                        → "stage1"…"stage4", 256×4×4
///     bn2, flatten (4096), fc 4096→D (with bias), bn BN1d
///
/// `BasicBlock`: `body = BN → conv3×3 → BN → PReLU → conv3×3 (stride) → BN`, plus the input or
/// `short` (1×1 conv + BN). PyTorch's default initialisation.
public final class TinyResNet32: FeatureExtractor {
    public let stem: Sequential
    public let stages: Sequential
    public let bn2: BatchNorm2d
    public let fc: Linear
    public let bn: BatchNorm1d

    public init(embeddingSize: Int = 128, widths: [Int] = [32, 64, 128, 256], using g: inout RandomGenerator) {
        precondition(widths.count == 4 && widths.allSatisfy { $0 > 0 } && embeddingSize > 0,
                     "TinyResNet32: needs 4 positive widths and a positive embedding size, got \(widths), \(embeddingSize)")
        let w = widths
        stem = Sequential(Conv2d(3, w[0], kernelSize: 3, padding: 1, bias: false, using: &g), BatchNorm2d(w[0]), PReLU(w[0]))
        stages = Sequential(BasicBlock(w[0], w[0], stride: 1, using: &g), BasicBlock(w[0], w[1], stride: 2, using: &g),
                            BasicBlock(w[1], w[2], stride: 2, using: &g), BasicBlock(w[2], w[3], stride: 2, using: &g))
        bn2 = BatchNorm2d(w[3])
        fc = Linear(w[3] * 16, embeddingSize, using: &g)
        bn = BatchNorm1d(embeddingSize)
    }

    /// One input image: `[3, 32, 32]`.
    public var inputShape: [Int]? { [3, 32, 32] }

    public func features(_ x: Tensor) -> Features {
        if let mismatch = inputMismatch(x.shape) { preconditionFailure(mismatch) }
        var maps: [String: Tensor] = [:]
        var y = stem(x)
        for (index, stage) in stages.layers.enumerated() {
            y = stage(y)
            maps["stage\(index + 1)"] = y
        }
        return Features(embedding: recorded(bn(fc(bn2(y).flattened()))), maps: maps)
    }

    /// Pre-activation-style residual block of ``TinyResNet32``.
    public final class BasicBlock: Layer {
        public let body: Sequential
        public let short: Sequential?

        init(_ inChannels: Int, _ outChannels: Int, stride: Int, using g: inout RandomGenerator) {
            body = Sequential(BatchNorm2d(inChannels), Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, bias: false, using: &g),
                              BatchNorm2d(outChannels), PReLU(outChannels),
                              Conv2d(outChannels, outChannels, kernelSize: 3, stride: Size2D(stride, stride), padding: 1, bias: false, using: &g),
                              BatchNorm2d(outChannels))
            short = stride != 1 || inChannels != outChannels
                ? Sequential(Conv2d(inChannels, outChannels, kernelSize: 1, stride: Size2D(stride, stride), bias: false, using: &g),
                             BatchNorm2d(outChannels))
                : nil
        }

        /// The body's last convolution adds the shortcut in its epilogue when evaluating.
        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(body(x, adding: short?(x) ?? x)) }
    }
}
