import Tensor

/// A small, fast face network for tests, examples and the demo (about 0.12 M parameters and
/// 4 M multiply–adds per 32×32 image; trains in seconds on a CPU):
///
///     stem    conv 3×3 3→16 + BN + PReLU             → 16×32×32   "stage0"
///     stage1  conv 3×3 s2 16→32 + BN + PReLU         → 32×16×16   "stage1"
///     stage2  conv 3×3 s2 32→64 + BN + PReLU         → 64×8×8     "stage2"
///     stage3  conv 3×3 s2 64→128 + BN + PReLU        → 128×4×4    "stage3"
///     gdc     depthwise (S/8)×(S/8) conv + BN, flatten; fc 128→D (no bias); bn BN1d
///
/// The MobileFaceNet recipe (BN + PReLU, global depthwise head) at toy size. Input size `S`
/// must be a multiple of 8; widths and embedding size are configurable.
public final class SmallFaceNet: FeatureExtractor {
    public let stem: Sequential
    public let stage1: Sequential, stage2: Sequential, stage3: Sequential
    public let gdc: Sequential
    public let fc: Linear
    public let bn: BatchNorm1d
    public let inputSize: Int

    public init(embeddingSize: Int = 128, widths: [Int] = [16, 32, 64, 128], inputSize: Int = 32, using g: inout RandomGenerator) {
        precondition(widths.count == 4 && widths.allSatisfy { $0 > 0 } && embeddingSize > 0,
                     "SmallFaceNet: needs 4 positive widths and a positive embedding size, got \(widths), \(embeddingSize)")
        precondition(inputSize >= 8 && inputSize % 8 == 0, "SmallFaceNet: input size \(inputSize) must be a positive multiple of 8")
        let w = widths
        let initializer = Initializer.kaimingNormal(mode: .fanOut, nonlinearity: .relu)
        func block(_ cin: Int, _ cout: Int, _ stride: Int) -> Sequential {
            Sequential(Conv2d(cin, cout, kernelSize: 3, stride: Size2D(stride, stride), padding: 1, bias: false,
                              weightInitializer: initializer, using: &g),
                       BatchNorm2d(cout), PReLU(cout))
        }
        stem = block(3, w[0], 1)
        stage1 = block(w[0], w[1], 2)
        stage2 = block(w[1], w[2], 2)
        stage3 = block(w[2], w[3], 2)
        let side = inputSize / 8
        gdc = Sequential(Conv2d(w[3], w[3], kernelSize: Size2D(side, side), groups: w[3], bias: false,
                                weightInitializer: initializer, using: &g), BatchNorm2d(w[3]))
        fc = Linear(w[3], embeddingSize, bias: false, weightInitializer: initializer, using: &g)
        bn = BatchNorm1d(embeddingSize)
        self.inputSize = inputSize
    }

    /// The names of the feature maps ``features(_:)`` returns, in depth order.
    public static let mapNames = ["stage0", "stage1", "stage2", "stage3"]

    /// One input image: `[3, inputSize, inputSize]`.
    public var inputShape: [Int]? { [3, inputSize, inputSize] }

    public func features(_ x: Tensor) -> Features {
        if let mismatch = inputMismatch(x.shape) { preconditionFailure(mismatch) }
        let s0 = stem(x), s1 = stage1(s0), s2 = stage2(s1), s3 = stage3(s2)
        let embedding = bn(fc(gdc(s3).flattened()))
        return Features(embedding: recorded(embedding), maps: Dictionary(uniqueKeysWithValues: zip(Self.mapNames, [s0, s1, s2, s3])))
    }
}
