import Tensor

/// `max(x, 0)`.
public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.relu()) }
}

/// `x` for `x > 0`, `negativeSlope·x` otherwise (PyTorch default slope 0.01).
public final class LeakyReLU: Layer {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.leakyRelu(slope: negativeSlope)) }
}

/// `1/(1 + e^{−x})`.
public final class Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.sigmoid()) }
}

/// `tanh x`.
public final class Tanh: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.tanh()) }
}

/// The input unchanged.
public final class Identity: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x) }
}
