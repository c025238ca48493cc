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

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = body(x), s = shortcut?(x) ?? x
        precondition(y.shape == s.shape, "Residual: body output \(y.shape) and shortcut \(s.shape) differ for input \(x.shape)")
        return recorded(y + s)
    }
}
