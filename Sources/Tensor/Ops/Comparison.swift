/// Comparison masks (constants of 0 and 1, no gradient) and selection.
extension Tensor {
    /// 1 where `self > other`, else 0 (broadcast).
    public func greaterMask(_ other: Tensor) -> Tensor { Elementwise.zip(self, other, "greaterMask", Elementwise.Greater()) }
    /// 1 where `self ≥ other`, else 0 (broadcast).
    public func greaterEqualMask(_ other: Tensor) -> Tensor { Elementwise.zip(self, other, "greaterEqualMask", Elementwise.GreaterEqual()) }
    /// 1 where `self < other`, else 0 (broadcast).
    public func lessMask(_ other: Tensor) -> Tensor { other.greaterMask(self) }
    /// 1 where `self ≤ other`, else 0 (broadcast).
    public func lessEqualMask(_ other: Tensor) -> Tensor { other.greaterEqualMask(self) }
    /// 1 where `self == other`, else 0 (broadcast).
    public func equalMask(_ other: Tensor) -> Tensor { Elementwise.zip(self, other, "equalMask", Elementwise.Equal()) }

    /// `a` where `mask ≠ 0`, else `b` (all three broadcast); gradients flow to the chosen side.
    /// The side not chosen is never read into the result, so a NaN or ±∞ there (the masked
    /// `log` of a zero) does not leak into it.
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Shape.broadcast(Shape.broadcast(mask.shape, a.shape, "select"), b.shape, "select")
        let chosen = Elementwise.map(mask.detached(), Elementwise.NonZero()).broadcast(to: shape)
        let x = a.broadcast(to: shape), y = b.broadcast(to: shape)
        let value = Tensor(shape: shape) { out in
            let m = chosen.storage.base, p = x.storage.base, q = y.storage.base, dst = out.baseAddress!
            parallelFor(out.count, grain: Elementwise.grain) { range in
                for i in range { dst[i] = m[i] != 0 ? p[i] : q[i] }
            }
        }
        guard Tensor.needsGradient(x, y) else { return value }
        let needX = x.node != nil, needY = y.node != nil
        return Tensor.recordOperation("select", value: value, inputs: [x, y]) { dy in
            [needX ? select(chosen, dy, .zeros(shape)) : nil, needY ? select(chosen, .zeros(shape), dy) : nil]
        }
    }
}
