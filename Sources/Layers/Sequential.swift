import Tensor

/// Layers applied in order (PyTorch `nn.Sequential`); children are named by index, so the
/// parameters of the second layer are `1.weight`, `1.bias`. BatchNorm + PReLU pairs are fused.
///
/// ```swift
/// let block = Sequential {
///     Conv2d(3, 16, kernelSize: 3, padding: 1, bias: false, using: &g)
///     BatchNorm2d(16)
///     PReLU(16)
/// }
/// ```
public final class Sequential: ResidualAdding {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public convenience init(@LayerBuilder _ build: () -> [any Layer]) { self.init(build()) }

    public var count: Int { layers.count }

    public subscript(index: Int) -> any Layer { layers[index] }

    public func namedChildren() -> [(name: String, module: any Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Applies the layers in order; a ``BatchNorm`` directly followed by a ``PReLU`` runs as
    /// one fused kernel, and a ``Conv2d`` directly followed by a ``BatchNorm`` (and a ``PReLU``)
    /// as one convolution whose output planes are normalised as they are produced when the
    /// BatchNorm evaluates with running statistics.
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(run(x, adding: nil)) }

    /// `self(x) + residual`, the sum taken by the last layer: in the epilogue of a final
    /// `Conv2d → BatchNorm (→ PReLU)` run that evaluates with running statistics, or by a last
    /// layer that is itself ``ResidualAdding``; otherwise added after it.
    public func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor { recorded(run(x, adding: residual)) }

    private func run(_ x: Tensor, adding residual: Tensor?) -> Tensor {
        var y = x, index = 0, added = false
        while index < layers.count {
            if let conv = layers[index] as? Conv2d, index + 1 < layers.count, let norm = layers[index + 1] as? BatchNorm {
                let prelu = index + 2 < layers.count ? layers[index + 2] as? PReLU : nil
                index += prelu == nil ? 2 : 3
                added = index == layers.count && residual != nil
                y = norm(y, after: conv, followedBy: prelu, adding: added ? residual : nil)
            } else if let norm = layers[index] as? BatchNorm, index + 1 < layers.count, let prelu = layers[index + 1] as? PReLU {
                y = norm(y, followedBy: prelu)
                index += 2
            } else if index == layers.count - 1, let residual, let last = layers[index] as? any ResidualAdding {
                y = last(y, adding: residual)
                added = true
                index += 1
            } else {
                y = layers[index](y)
                index += 1
            }
        }
        guard let residual, !added else { return y }
        return y.addingResidual(residual, in: "Sequential")
    }
}

/// Builds a layer list from statements, loops and conditionals.
@resultBuilder
public enum LayerBuilder {
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    public static func buildEither(first: [any Layer]) -> [any Layer] { first }
    public static func buildEither(second: [any Layer]) -> [any Layer] { second }
}
