import Tensor

/// Maximum over windows of `[N, C, H, W]` (PyTorch `nn.MaxPool2d`; `stride` defaults to the
/// kernel size, padding counts as −∞).
public final class MaxPool2d: Layer {
    public let kernelSize: Size2D, stride: Size2D, padding: Size2D
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        recorded(x.maxPool2d(kernelSize: kernelSize, stride: stride, padding: padding))
    }
}

/// Mean over windows of `[N, C, H, W]` (PyTorch `nn.AvgPool2d`, `count_include_pad` by default).
public final class AvgPool2d: Layer {
    public let kernelSize: Size2D, stride: Size2D, padding: Size2D
    public let countIncludePad: Bool
    public init(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludePad = countIncludePad
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        recorded(x.avgPool2d(kernelSize: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad))
    }
}

/// Spatial mean: `[N, C, H, W]` → `[N, C]` (PyTorch `AdaptiveAvgPool2d(1)` then flatten).
public final class GlobalAveragePool2d: Layer {
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.globalAveragePool2d()) }
}
