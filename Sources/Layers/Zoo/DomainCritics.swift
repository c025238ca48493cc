import Tensor

/// The seed's ADDA domain discriminator (Tzeng et al., CVPR 2017; layout of
/// corenel/pytorch-adda `models/discriminator.py`, with PReLU instead of ReLU):
///
///     layer  Linear in→512, PReLU, Linear 512→512, PReLU, Linear 512→2
///
/// Hidden widths are configurable; the output is raw logits (source vs target), the loss
/// applies the softmax. PReLUs have one shared slope (PyTorch's `nn.PReLU()`).
public final class ADDADiscriminator: Layer {
    public let layer: Sequential

    public init(inputFeatures: Int, hiddenWidths: [Int] = [512, 512], outputs: Int = 2, using g: inout RandomGenerator) {
        precondition(inputFeatures > 0 && outputs > 0 && hiddenWidths.allSatisfy { $0 > 0 },
                     "ADDADiscriminator: sizes must be positive, got in \(inputFeatures), hidden \(hiddenWidths), out \(outputs)")
        var layers: [any Layer] = []
        var width = inputFeatures
        for hidden in hiddenWidths {
            layers += [Linear(width, hidden, using: &g), PReLU()]
            width = hidden
        }
        layers.append(Linear(width, outputs, using: &g))
        layer = Sequential(layers)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layer(x)) }
}

/// The domain classifier of DANN (Ganin et al., "Domain-Adversarial Training of Neural
/// Networks", JMLR 2016): `Linear → ReLU → Dropout` per hidden width (1024, 1024), then a
/// linear output (one logit: source vs target, for a binary cross-entropy with logits).
///
/// The gradient reversal layer is not part of the head: the DANN loss applies it, with its
/// λ schedule, to the features before calling the head.
public final class DANNDomainHead: Layer {
    public let layer: Sequential

    public init(inputFeatures: Int, hiddenWidths: [Int] = [1024, 1024], dropout: Float = 0.5, outputs: Int = 1,
                using g: inout RandomGenerator) {
        precondition(inputFeatures > 0 && outputs > 0 && hiddenWidths.allSatisfy { $0 > 0 },
                     "DANNDomainHead: sizes must be positive, got in \(inputFeatures), hidden \(hiddenWidths), out \(outputs)")
        var layers: [any Layer] = []
        var width = inputFeatures
        for hidden in hiddenWidths {
            layers += [Linear(width, hidden, using: &g), ReLU(), Dropout(probability: dropout, using: &g)]
            width = hidden
        }
        layers.append(Linear(width, outputs, using: &g))
        layer = Sequential(layers)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layer(x)) }
}
