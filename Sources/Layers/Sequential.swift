import Tensor

/// Layers applied in order (PyTorch `nn.Sequential`); children are named by index, so the
/// parameters of the second layer are `1.weight`, `1.bias`.
///
/// ```swift
/// let block = Sequential {
///     Conv2d(3, 16, kernelSize: 3, padding: 1, bias: false, using: &g)
///     BatchNorm2d(16)
///     PReLU(16)
/// }
/// ```
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public convenience init(@LayerBuilder _ build: () -> [any Layer]) { self.init(build()) }

    public var count: Int { layers.count }

    public subscript(index: Int) -> any Layer { layers[index] }

    public func namedChildren() -> [(name: String, module: any Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recorded(layers.reduce(x) { $1($0) })
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
