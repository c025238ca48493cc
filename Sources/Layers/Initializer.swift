import Foundation
import Tensor

/// How a weight tensor is initialised, with PyTorch's `torch.nn.init` formulas. Fans follow
/// PyTorch: for a weight `[out, in, k…]`, `fanIn = in·∏k`, `fanOut = out·∏k`.
///
/// - Kaiming (He et al., "Delving Deep into Rectifiers", ICCV 2015): std `gain/√fan`
///   (normal) or bound `gain·√(3/fan)` (uniform).
/// - Xavier (Glorot & Bengio, AISTATS 2010): std `gain·√(2/(fanIn+fanOut))` or bound
///   `gain·√(6/(fanIn+fanOut))`.
/// - Orthogonal (Saxe et al., ICLR 2014): `Q` of the QR decomposition of a normal matrix
///   `[out, in·∏k]`, signs fixed by `diag(R)`, times `gain`.
///
/// PyTorch's default for Linear and Conv weights is `kaimingUniform(a = √5)`, a bound of
/// `1/√fanIn` (``pytorchDefault``).
public enum Initializer: Sendable {
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(mean: Float = 0, standardDeviation: Float)
    case kaimingUniform(mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0))
    case kaimingNormal(mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0))
    case xavierUniform(gain: Float = 1)
    case xavierNormal(gain: Float = 1)
    case orthogonal(gain: Float = 1)

    /// Which fan Kaiming initialisation preserves: `fanIn` keeps forward variances, `fanOut`
    /// backward ones.
    public enum FanMode: Sendable { case fanIn, fanOut }

    /// The nonlinearity after the layer, which sets the gain (`torch.nn.init.calculate_gain`).
    public enum Nonlinearity: Sendable {
        case linear, sigmoid, tanh, relu, selu
        case leakyRelu(negativeSlope: Float)

        public var gain: Float {
            switch self {
            case .linear, .sigmoid: return 1
            case .tanh: return 5.0 / 3
            case .relu: return Float(2).squareRoot()
            case .selu: return 0.75
            case .leakyRelu(let a): return (2 / (1 + a * a)).squareRoot()
            }
        }
    }

    /// PyTorch's default for `nn.Linear`/`nn.Conv2d` weights: `kaiming_uniform_(a=√5)`.
    public static let pytorchDefault = Initializer.kaimingUniform(nonlinearity: .leakyRelu(negativeSlope: Float(5).squareRoot()))

    public static let zeros = Initializer.constant(0)
    public static let ones = Initializer.constant(1)

    /// `(fanIn, fanOut)` of a weight shape (rank ≥ 2, or rank 1 as `[n]` → `(n, n)`).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(!shape.isEmpty, "Initializer.fans: needs a shape of rank ≥ 1")
        if shape.count == 1 { return (shape[0], shape[0]) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A new tensor of `shape` drawn with this initialiser.
    public func tensor(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .constant(let value):
            return .full(shape, value)
        case .uniform(let low, let high):
            return .randomUniform(shape, low: low, high: high, using: &generator)
        case .normal(let mean, let std):
            return .randomNormal(shape, mean: mean, standardDeviation: std, using: &generator)
        case .kaimingUniform(let mode, let nonlinearity):
            let bound = nonlinearity.gain * (3 / Float(Self.fan(shape, mode))).squareRoot()
            return .randomUniform(shape, low: -bound, high: bound, using: &generator)
        case .kaimingNormal(let mode, let nonlinearity):
            let std = nonlinearity.gain / Float(Self.fan(shape, mode)).squareRoot()
            return .randomNormal(shape, standardDeviation: std, using: &generator)
        case .xavierUniform(let gain):
            let (fanIn, fanOut) = Self.fans(shape)
            let bound = gain * (6 / Float(fanIn + fanOut)).squareRoot()
            return .randomUniform(shape, low: -bound, high: bound, using: &generator)
        case .xavierNormal(let gain):
            let (fanIn, fanOut) = Self.fans(shape)
            return .randomNormal(shape, standardDeviation: gain * (2 / Float(fanIn + fanOut)).squareRoot(), using: &generator)
        case .orthogonal(let gain):
            return Self.orthogonal(shape, gain: gain, using: &generator)
        }
    }

    private static func fan(_ shape: [Int], _ mode: FanMode) -> Int {
        let (fanIn, fanOut) = fans(shape)
        let fan = mode == .fanIn ? fanIn : fanOut
        precondition(fan > 0, "Initializer: zero fan for shape \(shape)")
        return fan
    }

    /// PyTorch's `orthogonal_`: the `Q` factor of the QR decomposition (LAPACK, Householder)
    /// of a normal matrix `[rows, columns]` (transposed first when wide), columns multiplied by
    /// the signs of `diag(R)`, transposed back, times `gain`.
    private static func orthogonal(_ shape: [Int], gain: Float, using generator: inout RandomGenerator) -> Tensor {
        precondition(shape.count >= 2, "Initializer.orthogonal: needs rank ≥ 2, got \(shape)")
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        let wide = rows < columns
        let a = Tensor.randomNormal(wide ? [columns, rows] : [rows, columns], using: &generator)
        let (q, r): (Tensor, Tensor)
        do {
            (q, r) = try Linalg.qr(a)
        } catch {
            preconditionFailure("Initializer.orthogonal: QR of a random \(a.shape) matrix failed: \(error)")
        }
        let k = r.shape[0]
        let signs = Tensor(shape: [1, k]) { out in for i in 0..<k { out[i] = r[i, i] < 0 ? -1 : 1 } }
        let fixed = withoutGradients { q * signs * gain }
        return (wide ? fixed.transposed() : fixed).reshaped(to: shape)
    }
}
