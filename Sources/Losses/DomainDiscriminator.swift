import Tensor
import Layers

/// A multilayer perceptron that classifies embeddings by domain: `Linear → activation` for each
/// hidden width, then `Linear` to `outputs` logits.
///
/// - ``seed(inputDimension:using:)``: the seed's ADDA discriminator,
///   `FC 512 → PReLU → FC 512 → PReLU → FC 2`, softmax two-class loss.
/// - ``adda(inputDimension:using:)``: corenel/pytorch-adda's `500 → ReLU → 500 → ReLU → 2`.
/// - ``dann(inputDimension:using:)``: SSPP-DAN's domain head `1024 → ReLU → 1024 → ReLU → 2`
///   (its dropout is left out: it is a regulariser of that code, not of the method).
///
/// PReLU slopes are per channel, initialised to 0.25 (MXNet's and PyTorch's default).
/// Parameters are named `layers.<i>.weight`, `layers.<i>.bias`, `slopes.<i>`.
public final class DomainDiscriminator: Layer {
    public enum Activation: String, Sendable, CaseIterable { case relu, prelu, leakyRelu }

    public let layers: [Linear]
    /// Learnable PReLU slopes, one vector per hidden layer (empty for other activations).
    public let slopes: [Parameter]
    public let activation: Activation

    public init(inputDimension: Int, hidden: [Int], outputs: Int = 2, activation: Activation,
                using generator: inout RandomGenerator) {
        precondition(inputDimension > 0 && outputs > 0 && hidden.allSatisfy { $0 > 0 },
                     "DomainDiscriminator: dimensions must be positive, got input \(inputDimension), hidden \(hidden), outputs \(outputs)")
        let widths = [inputDimension] + hidden + [outputs]
        layers = (0..<(widths.count - 1)).map { Linear(widths[$0], widths[$0 + 1], using: &generator) }
        slopes = activation == .prelu ? hidden.map { Parameter(Tensor.full([$0], 0.25)) } : []
        self.activation = activation
    }

    public static func seed(inputDimension: Int = 512, using generator: inout RandomGenerator) -> DomainDiscriminator {
        DomainDiscriminator(inputDimension: inputDimension, hidden: [512, 512], activation: .prelu, using: &generator)
    }

    public static func adda(inputDimension: Int = 500, using generator: inout RandomGenerator) -> DomainDiscriminator {
        DomainDiscriminator(inputDimension: inputDimension, hidden: [500, 500], activation: .relu, using: &generator)
    }

    public static func dann(inputDimension: Int, using generator: inout RandomGenerator) -> DomainDiscriminator {
        DomainDiscriminator(inputDimension: inputDimension, hidden: [1024, 1024], activation: .relu, using: &generator)
    }

    public var inputDimension: Int { layers[0].inFeatures }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputDimension,
                     "DomainDiscriminator: input must be [N, \(inputDimension)], got \(x.shape)")
        var h = x
        for (i, layer) in layers.enumerated() {
            h = layer(h)
            guard i < layers.count - 1 else { break }
            switch activation {
            case .relu: h = h.relu()
            case .leakyRelu: h = h.leakyRelu(slope: 0.2)
            case .prelu: h = h.prelu(slopes[i].value)
            }
        }
        return recorded(h)
    }
}
