import Tensor

/// Parametric ReLU with one learnable slope per channel, or one shared slope (PyTorch
/// `nn.PReLU(num_parameters, init=0.25)`): `y = x` for `x > 0`, `a[c]·x` otherwise.
/// Parameter `weight` `[numParameters]`.
public final class PReLU: Layer {
    public let weight: Parameter

    public init(_ numParameters: Int = 1, initialSlope: Float = 0.25) {
        precondition(numParameters > 0, "PReLU: needs at least one slope, got \(numParameters)")
        weight = Parameter(.full([numParameters], initialSlope))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.prelu(slope: weight.value)) }
}
