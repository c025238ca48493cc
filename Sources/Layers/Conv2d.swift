import Tensor

/// 2-D convolution layer (PyTorch `nn.Conv2d`): weight `[out, in/groups, kH, kW]`, optional
/// bias `[out]`, zero padding. See ``Tensor/Tensor/conv2d(_:weight:bias:stride:padding:dilation:groups:)``
/// for the formula and the kernels (depthwise when `groups == in`, GEMM for 1×1).
///
/// Default initialisation is PyTorch's: `kaimingUniform(a = √5)` weights (bound `1/√fanIn`),
/// bias `U(−1/√fanIn, 1/√fanIn)` with `fanIn = in/groups · kH · kW`.
public final class Conv2d: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Size2D
    public let padding: Size2D
    public let dilation: Size2D
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1, padding: Size2D = 0,
                dilation: Size2D = 1, groups: Int = 1, bias: Bool = true, weightInitializer: Initializer = .pytorchDefault,
                using generator: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: groups \(groups) must divide in \(inChannels) and out \(outChannels) channels (all positive)")
        precondition(kernelSize.height > 0 && kernelSize.width > 0, "Conv2d: kernel size \(kernelSize) must be positive")
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let shape = [outChannels, inChannels / groups, kernelSize.height, kernelSize.width]
        weight = Parameter(weightInitializer.tensor(shape, using: &generator))
        if bias {
            let bound = 1 / Float(Initializer.fans(shape).fanIn).squareRoot()
            self.bias = Parameter(Tensor.randomUniform([outChannels], low: -bound, high: bound, using: &generator))
        } else {
            self.bias = nil
        }
    }

    public var inChannels: Int { weight.shape[1] * groups }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Size2D { Size2D(weight.shape[2], weight.shape[3]) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recorded(Tensor.conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding,
                               dilation: dilation, groups: groups))
    }
}
