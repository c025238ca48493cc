import Tensor

/// MobileFaceNet (Chen et al., "MobileFaceNets", CCBR 2018) in the form of insightface's
/// arcface_torch `backbones/mobilefacenet.py` (`get_mbf`): blocks (1, 4, 6, 2), scale 2,
/// BatchNorm + PReLU, a global depthwise (GDC) head, 512-d embedding, 2 059 520 parameters.
///
/// Layers at 112×112 (every conv bias-free; ConvBlock = conv + BN + PReLU, LinearBlock = conv + BN):
///
///     layers.0  ConvBlock 3→128, 3×3 s2                    → 128×56×56   "stage1" after layers.1
///     layers.1  ConvBlock 128→128, 3×3, groups 64          → 128×56×56
///     layers.2  DepthWise 128→128 (expand 128, 3×3 s2)     → 128×28×28
///     layers.3  4 × residual DepthWise (expand 128)        → 128×28×28   "stage2"
///     layers.4  DepthWise 128→256 (expand 256, s2)         → 256×14×14
///     layers.5  6 × residual DepthWise (expand 256)        → 256×14×14   "stage3"
///     layers.6  DepthWise 256→256 (expand 512, s2)         → 256×7×7
///     layers.7  2 × residual DepthWise (expand 256)        → 256×7×7     "stage4"
///     conv_sep  ConvBlock 256→512, 1×1                     → 512×7×7     "stage5"
///     features  GDC: LinearBlock 512, 7×7 depthwise, flatten, Linear 512→D (no bias), BN1d
///
/// with `DepthWise(in, out, e) = ConvBlock in→e 1×1, ConvBlock e→e 3×3 depthwise,
/// LinearBlock e→out 1×1` (+ identity when residual). For small inputs the stem stride is 1
/// (32×32 → 32, 16, 8, 4 and a 4×4 GDC kernel, as the team's `MobileFaceNet(input_size=32)`).
///
/// State-dict names follow insightface (`layers.3.layers.0.layers.1.layers.0.weight`), or,
/// with ``Layout/benchmark``, the team's PyTorch benchmark definition (`body.3.0.layers.1.0.weight`,
/// `gdc.0.weight`, `fc.weight`, `bn.running_mean`). Weights: Kaiming normal (fan-out, ReLU)
/// for convolutions and the linear layer, BatchNorm γ = 1, β = 0 (as insightface).
public final class MobileFaceNet: FeatureExtractor {
    /// Which PyTorch definition's parameter names the state dict uses.
    public enum Layout: Sendable {
        /// insightface arcface_torch `backbones/mobilefacenet.py`.
        case insightface
        /// `../shared/bench/pytorch/models.py` (`body`, `gdc`, `fc`, `bn`).
        case benchmark
    }

    public struct Configuration: Sendable {
        public var embeddingSize: Int
        /// Input height = width; must be a multiple of `8 · stemStride`.
        public var inputSize: Int
        /// Stride of the first convolution; unless set, 2 from 64 pixels up and 1 below, following
        /// ``inputSize`` (so `var c = .mbf; c.inputSize = 32` is ``mbf32``).
        public var stemStride: Int {
            get { chosenStemStride ?? (inputSize >= 64 ? 2 : 1) }
            set { chosenStemStride = newValue }
        }
        private var chosenStemStride: Int?
        /// Blocks per stage (insightface's `blocks`; `blocks[0] == 1` is the plain ConvBlock).
        public var blocks: [Int]
        /// insightface's `scale`: stage widths `64·scale` and `128·scale`.
        public var scale: Int
        /// Multiplies every channel count (expansions, `conv_sep`, the GDC), rounded to multiples of 8.
        public var widthMultiplier: Float
        public var layout: Layout

        public init(embeddingSize: Int = 512, inputSize: Int = 112, stemStride: Int? = nil, blocks: [Int] = [1, 4, 6, 2],
                    scale: Int = 2, widthMultiplier: Float = 1, layout: Layout = .insightface) {
            self.embeddingSize = embeddingSize
            self.inputSize = inputSize
            chosenStemStride = stemStride
            self.blocks = blocks
            self.scale = scale
            self.widthMultiplier = widthMultiplier
            self.layout = layout
        }

        /// insightface `get_mbf`: 112×112, 512-d.
        public static let mbf = Configuration()
        /// The 32×32 variant (stride-1 stem, 4×4 GDC).
        public static let mbf32 = Configuration(inputSize: 32)
        /// insightface `get_mbf_large`: blocks (2, 8, 12, 4), scale 4.
        public static let mbfLarge = Configuration(blocks: [2, 8, 12, 4], scale: 4)

        /// Side of the last feature map (the GDC kernel).
        public var finalSize: Int { inputSize / (8 * stemStride) }

        func width(_ channels: Int) -> Int {
            widthMultiplier == 1 ? channels : Swift.max(8, Int((Float(channels) * widthMultiplier / 8).rounded()) * 8)
        }
    }

    /// Kaiming normal, fan-out, ReLU gain: insightface's initialisation of every conv and linear weight.
    static let initializer = Initializer.kaimingNormal(mode: .fanOut, nonlinearity: .relu)

    public let configuration: Configuration
    /// insightface's `layers` ModuleList: stem, stages and down-sampling blocks.
    public let layers: [any Layer]
    public let convSep: ConvBlock
    /// The GDC head (insightface's `features`).
    public let head: GDC

    public init(_ configuration: Configuration = .mbf, using generator: inout RandomGenerator) {
        let c = configuration
        precondition(c.blocks.count == 4 && c.blocks.allSatisfy { $0 >= 1 } && c.scale >= 1 && c.embeddingSize >= 1,
                     "MobileFaceNet: needs 4 positive block counts, scale ≥ 1, embedding ≥ 1; got blocks \(c.blocks), scale \(c.scale)")
        precondition(c.widthMultiplier.isFinite && c.widthMultiplier > 0,
                     "MobileFaceNet: widthMultiplier must be a positive number, got \(c.widthMultiplier)")
        precondition(c.stemStride >= 1 && c.inputSize >= 8 * c.stemStride && c.inputSize % (8 * c.stemStride) == 0,
                     "MobileFaceNet: input size \(c.inputSize) must be a positive multiple of \(8 * c.stemStride) (stem stride \(c.stemStride))")
        self.configuration = c
        let flat = c.layout == .benchmark
        let c1 = c.width(64 * c.scale), c2 = c.width(128 * c.scale)
        let e1 = c.width(128), e2 = c.width(256), e3 = c.width(512), top = c.width(512)
        // The generator is passed down, not copied into a captured local: Swift 6.3.1's optimiser
        // reported a false "simultaneous access" on such a copy when the caller's generator was a global.
        func stage(_ channels: Int, _ count: Int, _ expand: Int, _ g: inout RandomGenerator) -> ResidualStage {
            ResidualStage((0..<count).map { _ in
                DepthWise(channels, channels, expand: expand, stride: 1, residual: true, flat: flat, using: &g)
            }, flat: flat)
        }
        // insightface's conv2_dw has 64 groups (2 channels each at scale 2); under a width
        // multiplier, the width of 64 where it divides the stage's, else 2 channels per group.
        let dwGroups = c1 % c.width(64) == 0 ? c.width(64) : c1 / 2
        var body: [any Layer] = [ConvBlock(3, c1, kernelSize: 3, stride: Size2D(c.stemStride, c.stemStride), padding: 1, flat: flat,
                                           using: &generator)]
        body.append(c.blocks[0] == 1
            ? ConvBlock(c1, c1, kernelSize: 3, padding: 1, groups: dwGroups, flat: flat, using: &generator)
            : stage(c1, c.blocks[0], e1, &generator))
        body.append(DepthWise(c1, c1, expand: e1, stride: 2, residual: false, flat: flat, using: &generator))
        body.append(stage(c1, c.blocks[1], e1, &generator))
        body.append(DepthWise(c1, c2, expand: e2, stride: 2, residual: false, flat: flat, using: &generator))
        body.append(stage(c2, c.blocks[2], e2, &generator))
        body.append(DepthWise(c2, c2, expand: e3, stride: 2, residual: false, flat: flat, using: &generator))
        body.append(stage(c2, c.blocks[3], e2, &generator))
        layers = body
        convSep = ConvBlock(c2, top, kernelSize: 1, flat: flat, using: &generator)
        head = GDC(top, embeddingSize: c.embeddingSize, kernelSize: c.finalSize, flat: flat, using: &generator)
    }

    public func namedChildren() -> [(name: String, module: any Module)] {
        if configuration.layout == .benchmark {
            let gdc = head.layers.layers
            return layers.enumerated().map { ("body.\($0.offset)", $0.element) }
                + [("body.\(layers.count)", convSep), ("gdc", gdc[0]), ("fc", gdc[2]), ("bn", gdc[3])]
        }
        return layers.enumerated().map { ("layers.\($0.offset)", $0.element) } + [("conv_sep", convSep), ("features", head)]
    }

    /// One input image: `[3, inputSize, inputSize]`.
    public var inputShape: [Int]? { [3, configuration.inputSize, configuration.inputSize] }

    public func features(_ x: Tensor) -> Features {
        if let mismatch = inputMismatch(x.shape) { preconditionFailure(mismatch) }
        var maps: [String: Tensor] = [:]
        var y = x
        for (index, layer) in layers.enumerated() {
            y = layer(y)
            switch index {
            case 1: maps["stage1"] = y
            case 3: maps["stage2"] = y
            case 5: maps["stage3"] = y
            case 7: maps["stage4"] = y
            default: break
            }
        }
        y = convSep(y)
        maps["stage5"] = y
        return Features(embedding: recorded(head(y)), maps: maps)
    }

    // MARK: Blocks

    /// Conv + BatchNorm2d + PReLU (insightface `ConvBlock`, children under `layers`).
    public final class ConvBlock: Layer {
        public let layers: Sequential
        let flat: Bool

        init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
             groups: Int = 1, flat: Bool, using g: inout RandomGenerator) {
            layers = Sequential(Conv2d(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                                       groups: groups, bias: false, weightInitializer: MobileFaceNet.initializer, using: &g),
                                BatchNorm2d(outChannels), PReLU(outChannels))
            self.flat = flat
        }

        public func namedChildren() -> [(name: String, module: any Module)] {
            flat ? layers.namedChildren() : [("layers", layers)]
        }

        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layers(x)) }
    }

    /// Conv + BatchNorm2d, no activation (insightface `LinearBlock`).
    public final class LinearBlock: ResidualAdding {
        public let layers: Sequential
        let flat: Bool

        init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, groups: Int = 1, flat: Bool, using g: inout RandomGenerator) {
            layers = Sequential(Conv2d(inChannels, outChannels, kernelSize: kernelSize, groups: groups, bias: false,
                                       weightInitializer: MobileFaceNet.initializer, using: &g),
                                BatchNorm2d(outChannels))
            self.flat = flat
        }

        public func namedChildren() -> [(name: String, module: any Module)] {
            flat ? layers.namedChildren() : [("layers", layers)]
        }

        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layers(x)) }

        /// `self(x) + residual`, added in the convolution's epilogue when evaluating.
        public func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor { recorded(layers(x, adding: residual)) }
    }

    /// Inverted-residual bottleneck: 1×1 expand, 3×3 depthwise, 1×1 linear projection,
    /// plus the input when `residual` (insightface `DepthWise`).
    public final class DepthWise: Layer {
        public let layers: Sequential
        public let residual: Bool

        init(_ inChannels: Int, _ outChannels: Int, expand: Int, stride: Int, residual: Bool, flat: Bool,
             using g: inout RandomGenerator) {
            layers = Sequential(ConvBlock(inChannels, expand, kernelSize: 1, flat: flat, using: &g),
                                ConvBlock(expand, expand, kernelSize: 3, stride: Size2D(stride, stride), padding: 1,
                                          groups: expand, flat: flat, using: &g),
                                LinearBlock(expand, outChannels, kernelSize: 1, flat: flat, using: &g))
            self.residual = residual
        }

        /// The projection's epilogue adds the input when evaluating (``ResidualAdding``).
        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(residual ? layers(x, adding: x) : layers(x)) }
    }

    /// A run of residual ``DepthWise`` blocks (insightface `Residual`).
    public final class ResidualStage: Layer {
        public let layers: Sequential
        let flat: Bool

        init(_ blocks: [DepthWise], flat: Bool) {
            layers = Sequential(blocks)
            self.flat = flat
        }

        public func namedChildren() -> [(name: String, module: any Module)] {
            flat ? layers.namedChildren() : [("layers", layers)]
        }

        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layers(x)) }
    }

    /// Global depthwise convolution head: LinearBlock with a full-size depthwise kernel,
    /// flatten, Linear (no bias), BatchNorm1d (insightface `GDC`).
    public final class GDC: Layer {
        public let layers: Sequential

        init(_ channels: Int, embeddingSize: Int, kernelSize: Int, flat: Bool, using g: inout RandomGenerator) {
            layers = Sequential(LinearBlock(channels, channels, kernelSize: Size2D(kernelSize, kernelSize), groups: channels,
                                            flat: flat, using: &g),
                                Flatten(), Linear(channels, embeddingSize, bias: false, weightInitializer: MobileFaceNet.initializer, using: &g), BatchNorm1d(embeddingSize))
        }

        public func callAsFunction(_ x: Tensor) -> Tensor { recorded(layers(x)) }
    }
}
