import Tensor

/// A multilayer perceptron that classifies embeddings by domain: `Linear → activation` for each
/// hidden width, then `Linear` to `outputs` logits.
///
/// - ``seed(inputDimension:using:)``: the seed's ADDA discriminator,
///   `FC 512 → PReLU → FC 512 → PReLU → FC 2`, softmax two-class loss (PReLU slopes per
///   channel, initialised to 0.25).
/// - ``adda(inputDimension:using:)``: corenel/pytorch-adda's `500 → ReLU → 500 → ReLU → 2`
///   (raw logits: that code ends with `LogSoftmax`, which the losses here apply themselves).
/// - ``dann(inputDimension:using:)``: SSPP-DAN's domain head `1024 → ReLU → 1024 → ReLU → 2`
///   (its dropout is left out: a regulariser of that code, not part of the method).
///
/// Parameters are named like corenel's `self.layer = nn.Sequential(...)`: `layer.0.weight`,
/// `layer.0.bias`, `layer.1.weight` (a PReLU's slopes), `layer.2.weight`, …, so PyTorch
/// weights load by name.
public final class DomainDiscriminator: Layer {
    public enum Activation: String, Sendable, CaseIterable { case relu, prelu, leakyRelu }

    public let layer: Sequential
    public let inputDimension: Int
    /// The number of logits it gives per row.
    public let outputs: Int

    public init(inputDimension: Int, hidden: [Int], outputs: Int = 2, activation: Activation,
                using generator: inout RandomGenerator) {
        precondition(inputDimension > 0 && outputs > 0 && hidden.allSatisfy { $0 > 0 },
                     "DomainDiscriminator: dimensions must be positive, got input \(inputDimension), hidden \(hidden), outputs \(outputs)")
        var layers: [any Layer] = []
        var width = inputDimension
        for next in hidden {
            layers.append(Linear(width, next, using: &generator))
            switch activation {
            case .relu: layers.append(ReLU())
            case .prelu: layers.append(PReLU(next))
            case .leakyRelu: layers.append(LeakyReLU(negativeSlope: 0.2))
            }
            width = next
        }
        layers.append(Linear(width, outputs, using: &generator))
        layer = Sequential(layers)
        self.inputDimension = inputDimension
        self.outputs = outputs
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

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputDimension,
                     "DomainDiscriminator: input must be [N, \(inputDimension)], got \(x.shape)")
        return recorded(layer(x))
    }
}
