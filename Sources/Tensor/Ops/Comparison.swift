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
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let m = Elementwise.map(mask.detached(), Elementwise.NonZero())
        return m * a + (1 - m) * b
    }
}
