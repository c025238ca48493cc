import Tensor

/// A residual block (He et al., "Deep Residual Learning", CVPR 2016): `y = body(x) + shortcut(x)`,
/// the shortcut being the identity when absent (then `body` must keep the shape).
/// Children are named `body` and `shortcut`.
public final class Residual: Layer {
    public let body: any Layer
    public let shortcut: (any Layer)?

    public init(_ body: any Layer, shortcut: (any Layer)? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    /// `body(x) + shortcut(x)`; a ``ResidualAdding`` body takes the sum itself (in evaluation
    /// mode, in its last convolution's epilogue), so the shortcut runs first.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let s = shortcut?(x) ?? x
        if let body = body as? any ResidualAdding { return recorded(body(x, adding: s)) }
        return recorded(body(x).addingResidual(s, in: "Residual"))
    }
}

/// A layer that can add a tensor of its output's shape to its output as it computes it: a
/// ``Sequential`` ending in `Conv2d → BatchNorm (→ PReLU)` that evaluates with running
/// statistics adds it in the convolution's epilogue, with no separate pass over the output (the
/// sum that closes a residual block).
public protocol ResidualAdding: Layer {
    /// `self(x) + residual` (`residual` has the output's shape).
    func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor
}

extension Tensor {
    /// `self + residual` for tensors of one shape, or a precondition failure naming `layer`
    /// and both shapes (never a broadcast).
    func addingResidual(_ residual: Tensor, in layer: String) -> Tensor {
        precondition(shape == residual.shape, "\(layer): output \(shape) and residual \(residual.shape) differ")
        return self + residual
    }
}
