import Tensor

/// A fully connected layer `y = x·Wᵀ + b` (PyTorch `nn.Linear`): weight `[out, in]`,
/// optional bias `[out]`. Inputs are `[…, in]`.
///
/// Default initialisation is PyTorch's: weight `kaimingUniform(a = √5)` (bound `1/√in`) and
/// bias `U(−1/√in, 1/√in)`.
public final class Linear: Layer {
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInitializer: Initializer = .pytorchDefault, biasInitializer: Initializer? = nil,
                using generator: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: feature counts must be positive, got \(inFeatures) → \(outFeatures)")
        weight = Parameter(weightInitializer.tensor([outFeatures, inFeatures], using: &generator))
        if bias {
            let bound = 1 / Float(inFeatures).squareRoot()
            let initializer = biasInitializer ?? .uniform(low: -bound, high: bound)
            self.bias = Parameter(initializer.tensor([outFeatures], using: &generator))
        } else {
            self.bias = nil
        }
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures,
                     "Linear(\(inFeatures) → \(outFeatures)): input of shape \(x.shape) needs last dimension \(inFeatures)")
        let flat = x.rank == 2 ? x : x.reshaped(to: [-1, inFeatures])
        var y = flat.matmul(weight.value, transposeOther: true)
        if let bias { y = y + bias.value }
        if x.rank != 2 { y = y.reshaped(to: Array(x.shape.dropLast()) + [outFeatures]) }
        return recorded(y)
    }
}
