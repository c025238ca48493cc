import Tensor

/// Improved ResNet for face recognition (Duta et al., "Improved Residual Networks", 2020;
/// ArcFace's backbone) as insightface's arcface_torch `backbones/iresnet.py`.
///
///     conv1 3×3 3→64 s1, bn1, prelu
///     layer1…layer4: IBasicBlocks of 64, 128, 256, 512 channels, the first of each with
///                    stride 2 and a 1×1 conv + BN `downsample`                 "stage1"…"stage4"
///     bn2, flatten, dropout, fc 512·(S/16)² → D, features BN1d (γ frozen at 1)
///
/// `IBasicBlock`: `bn1 → conv1 3×3 → bn2 → prelu → conv2 3×3 (stride) → bn3`, plus the
/// (down-sampled) input. Depths: IResNet-18 (2, 2, 2, 2), 34 (3, 4, 6, 3), 50 (3, 4, 14, 3),
/// 100 (3, 13, 30, 3); at 112×112 with D = 512, IResNet-50 has 43 590 848 parameters.
/// Weights as insightface: convolutions `N(0, 0.1)`, BatchNorm γ = 1, β = 0, fc PyTorch default.
public final class IResNet: FeatureExtractor {
    public struct Configuration: Sendable {
        /// Blocks per stage.
        public var layers: [Int]
        public var embeddingSize: Int
        /// Input height = width, a multiple of 16 (112 in insightface).
        public var inputSize: Int
        /// Dropout before `fc` (insightface default 0).
        public var dropout: Float

        public init(layers: [Int], embeddingSize: Int = 512, inputSize: Int = 112, dropout: Float = 0) {
            self.layers = layers
            self.embeddingSize = embeddingSize
            self.inputSize = inputSize
            self.dropout = dropout
        }

        public static let iresnet18 = Configuration(layers: [2, 2, 2, 2])
        public static let iresnet34 = Configuration(layers: [3, 4, 6, 3])
        public static let iresnet50 = Configuration(layers: [3, 4, 14, 3])
        public static let iresnet100 = Configuration(layers: [3, 13, 30, 3])
    }

    public let configuration: Configuration
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let prelu: PReLU
    public let layer1: Sequential, layer2: Sequential, layer3: Sequential, layer4: Sequential
    public let bn2: BatchNorm2d
    public let dropout: Dropout
    public let fc: Linear
    /// The output BatchNorm1d (insightface's `features`); its γ is frozen at 1.
    public let outputNorm: BatchNorm1d

    /// Convolution weights `N(0, 0.1)` as insightface.
    static let convInitializer = Initializer.normal(standardDeviation: 0.1)

    public init(_ configuration: Configuration, using generator: inout RandomGenerator) {
        let c = configuration
        precondition(c.layers.count == 4 && c.layers.allSatisfy { $0 >= 1 },
                     "IResNet: needs 4 positive block counts, got \(c.layers)")
        precondition(c.inputSize % 16 == 0 && c.inputSize >= 16, "IResNet: input size \(c.inputSize) must be a positive multiple of 16")
        self.configuration = c
        conv1 = Conv2d(3, 64, kernelSize: 3, padding: 1, bias: false, weightInitializer: Self.convInitializer, using: &generator)
        bn1 = BatchNorm2d(64)
        prelu = PReLU(64)
        var inPlanes = 64
        func stage(_ planes: Int, _ blocks: Int) -> Sequential {
            let first = IBasicBlock(inPlanes, planes, stride: 2, using: &generator)
            inPlanes = planes
            return Sequential([first] + (1..<blocks).map { _ in IBasicBlock(planes, planes, stride: 1, using: &generator) })
        }
        layer1 = stage(64, c.layers[0])
        layer2 = stage(128, c.layers[1])
        layer3 = stage(256, c.layers[2])
        layer4 = stage(512, c.layers[3])
        bn2 = BatchNorm2d(512)
        dropout = Dropout(probability: c.dropout, using: &generator)
        let side = c.inputSize / 16
        fc = Linear(512 * side * side, c.embeddingSize, using: &generator)
        outputNorm = BatchNorm1d(c.embeddingSize)
        outputNorm.weight!.isTrainable = false
    }

    public func namedChildren() -> [(name: String, module: any Module)] {
        [("conv1", conv1), ("bn1", bn1), ("prelu", prelu), ("layer1", layer1), ("layer2", layer2), ("layer3", layer3),
         ("layer4", layer4), ("bn2", bn2), ("dropout", dropout), ("fc", fc), ("features", outputNorm)]
    }

    /// One input image: `[3, inputSize, inputSize]`.
    public var inputShape: [Int]? { [3, configuration.inputSize, configuration.inputSize] }

    public func features(_ x: Tensor) -> Features {
        if let mismatch = inputMismatch(x.shape) { preconditionFailure(mismatch) }
        var maps: [String: Tensor] = [:]
        var y = bn1(conv1(x), followedBy: prelu)
        for (index, stage) in [layer1, layer2, layer3, layer4].enumerated() {
            y = stage(y)
            maps["stage\(index + 1)"] = y
        }
        y = dropout(bn2(y).flattened())
        return Features(embedding: recorded(outputNorm(fc(y))), maps: maps)
    }

    /// `bn1 → conv1 → bn2 → prelu → conv2 (stride) → bn3`, plus the input or its `downsample`.
    public final class IBasicBlock: Layer {
        public let bn1: BatchNorm2d
        public let conv1: Conv2d
        public let bn2: BatchNorm2d
        public let prelu: PReLU
        public let conv2: Conv2d
        public let bn3: BatchNorm2d
        public let downsample: Sequential?

        init(_ inPlanes: Int, _ planes: Int, stride: Int, using g: inout RandomGenerator) {
            bn1 = BatchNorm2d(inPlanes)
            conv1 = Conv2d(inPlanes, planes, kernelSize: 3, padding: 1, bias: false, weightInitializer: IResNet.convInitializer, using: &g)
            bn2 = BatchNorm2d(planes)
            prelu = PReLU(planes)
            conv2 = Conv2d(planes, planes, kernelSize: 3, stride: Size2D(stride, stride), padding: 1, bias: false,
                           weightInitializer: IResNet.convInitializer, using: &g)
            bn3 = BatchNorm2d(planes)
            downsample = stride != 1 || inPlanes != planes
                ? Sequential(Conv2d(inPlanes, planes, kernelSize: 1, stride: Size2D(stride, stride), bias: false,
                                    weightInitializer: IResNet.convInitializer, using: &g), BatchNorm2d(planes))
                : nil
        }

        /// Evaluating, `conv1 → bn2 → prelu` is one convolution with its epilogue, and so is
        /// `conv2 → bn3`, which also adds the shortcut.
        public func callAsFunction(_ x: Tensor) -> Tensor {
            let h = bn2(bn1(x), after: conv1, followedBy: prelu)
            return recorded(bn3(h, after: conv2, adding: downsample?(x) ?? x))
        }
    }
}
