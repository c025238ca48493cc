import Tensor

/// Collapses axes `startAxis…endAxis` into one (PyTorch `nn.Flatten`, default from axis 1:
/// `[N, C, H, W]` → `[N, C·H·W]`). Shares storage with the input.
public final class Flatten: Layer {
    public let startAxis: Int, endAxis: Int
    public init(startAxis: Int = 1, endAxis: Int = -1) {
        self.startAxis = startAxis
        self.endAxis = endAxis
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { recorded(x.flattened(from: startAxis, to: endAxis)) }
}
