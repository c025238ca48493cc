import Tensor

/// The LeNet encoder of ADDA (Tzeng et al., "Adversarial Discriminative Domain Adaptation",
/// CVPR 2017) as corenel/pytorch-adda `models/lenet.py` `LeNetEncoder`, same names:
///
///     encoder  conv 5×5 1→20, max-pool 2, ReLU            "stage1" (20×12×12 at 28×28)
///              conv 5×5 20→50, Dropout2d, max-pool 2, ReLU "stage2" (50×4×4)
///     fc1      Linear 50·4·4 → 500                        embedding (500-d, no activation)
///
/// PyTorch's default initialisation.
public final class LeNetEncoder: FeatureExtractor {
    public let encoder: Sequential
    public let fc1: Linear
    public let inputChannels: Int, inputSize: Int

    public init(inputChannels: Int = 1, inputSize: Int = 28, featureSize: Int = 500, using g: inout RandomGenerator) {
        let side = ((inputSize - 4) / 2 - 4) / 2
        precondition(inputChannels > 0 && side >= 1 && featureSize > 0,
                     "LeNetEncoder: input size \(inputSize) is too small (needs ≥ 16) or channels/feature size not positive")
        encoder = Sequential(Conv2d(inputChannels, 20, kernelSize: 5, using: &g), MaxPool2d(kernelSize: 2), ReLU(),
                             Conv2d(20, 50, kernelSize: 5, using: &g), Dropout2d(probability: 0.5, using: &g),
                             MaxPool2d(kernelSize: 2), ReLU())
        fc1 = Linear(50 * side * side, featureSize, using: &g)
        self.inputChannels = inputChannels
        self.inputSize = inputSize
    }

    /// One input image: `[inputChannels, inputSize, inputSize]`.
    public var inputShape: [Int]? { [inputChannels, inputSize, inputSize] }

    public func features(_ x: Tensor) -> Features {
        if let mismatch = inputMismatch(x.shape) { preconditionFailure(mismatch) }
        let stage1 = encoder.layers[0..<3].reduce(x) { $1($0) }
        let stage2 = encoder.layers[3...].reduce(stage1) { $1($0) }
        return Features(embedding: recorded(fc1(stage2.flattened())), maps: ["stage1": stage1, "stage2": stage2])
    }
}

/// The classifier on top of ``LeNetEncoder`` (pytorch-adda `LeNetClassifier`):
/// `fc2(dropout(relu(feature)))`, 500 → 10 by default.
public final class LeNetClassifier: Layer {
    public let dropout: Dropout
    public let fc2: Linear

    public init(featureSize: Int = 500, classes: Int = 10, using g: inout RandomGenerator) {
        dropout = Dropout(probability: 0.5, using: &g)
        fc2 = Linear(featureSize, classes, using: &g)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(fc2(dropout(x.relu()))) }
}
