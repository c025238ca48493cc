import Tensor

/// Dropout (Srivastava et al., JMLR 2014) with an explicit generator: in training each element
/// is zeroed with probability `p` and the rest are scaled by `1/(1 − p)`; identity in
/// evaluation. The layer owns its generator (split from the one passed at construction), so
/// two runs from the same seed drop the same units.
public final class Dropout: Layer, RandomizedModule {
    public let probability: Float
    public var isTraining = true
    /// The stream the masks are drawn from (save it to resume exactly).
    public var generator: RandomGenerator

    public init(probability: Float = 0.5, using generator: inout RandomGenerator) {
        precondition(probability >= 0 && probability < 1, "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator.split()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return recorded(x) }
        return recorded(x * DropoutMask.draw(x.shape, probability, &generator))
    }
}

/// Channel dropout (Tompson et al., CVPR 2015; PyTorch `nn.Dropout2d`): whole `[H, W]` planes
/// of `[N, C, H, W]` are zeroed with probability `p`, the others scaled by `1/(1 − p)`.
public final class Dropout2d: Layer, RandomizedModule {
    public let probability: Float
    public var isTraining = true
    public var generator: RandomGenerator

    public init(probability: Float = 0.5, using generator: inout RandomGenerator) {
        precondition(probability >= 0 && probability < 1, "Dropout2d: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        self.generator = generator.split()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "Dropout2d: input must be [N, C, H, W], got \(x.shape)")
        guard isTraining, probability > 0 else { return recorded(x) }
        return recorded(x * DropoutMask.draw([x.shape[0], x.shape[1], 1, 1], probability, &generator))
    }
}

enum DropoutMask {
    /// `0` with probability `p`, else `1/(1 − p)`.
    static func draw(_ shape: [Int], _ p: Float, _ generator: inout RandomGenerator) -> Tensor {
        let keep = 1 / (1 - p)
        return Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = generator.nextUniform() < p ? 0 : keep }
        }
    }
}
