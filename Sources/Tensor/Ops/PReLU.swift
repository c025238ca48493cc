/// Fused parametric ReLU (He et al., "Delving Deep into Rectifiers", ICCV 2015):
///
///     y = x            for x > 0
///     y = a[c] · x     otherwise
///
/// with one learnable slope per channel `c` (axis 1 of `[N, C, …]`), or one slope for all.
/// Gradients: `dx = dy · (x > 0 ? 1 : a[c])`, `da[c] = Σ dy · min(x, 0)`.
extension Tensor {
    public func prelu(slope: Tensor) -> Tensor {
        precondition(slope.rank == 1 && rank >= 2 && (slope.count == shape[1] || slope.count == 1),
                     "prelu: slope of shape \(slope.shape) does not match input \(shape) (need [C] with C = shape[1], or [1])")
        let channels = shape[1], batch = shape[0]
        let inner = count / Swift.max(batch &* channels, 1)
        let perChannel = slope.count != 1
        let value = Tensor(shape: shape) { out in
            let x = storage.base, a = slope.storage.base, y = out.baseAddress!
            parallelFor(batch &* channels, grain: Swift.max(1, Elementwise.grain / Swift.max(inner, 1))) { planes in
                for p in planes {
                    let s = a[perChannel ? p % channels : 0]
                    BatchNormPReLUKernel.mapPReLU(x + p &* inner, y + p &* inner, inner, s) { $0 }
                }
            }
        }
        guard Tensor.needsGradient(self, slope) else { return value }
        let x = detached(), a = slope.detached()
        let needInput = node != nil, needSlope = slope.node != nil
        let inputShape = shape
        return Tensor.recordOperation("prelu", value: value, inputs: [self, slope]) { dy in
            var dx: Tensor? = nil, da: Tensor? = nil
            if needInput {
                dx = Tensor(shape: inputShape) { out in
                    let g = dy.storage.base, src = x.storage.base, sa = a.storage.base, dst = out.baseAddress!
                    parallelFor(batch &* channels, grain: Swift.max(1, Elementwise.grain / Swift.max(inner, 1))) { planes in
                        for p in planes {
                            let s = sa[perChannel ? p % channels : 0]
                            let o = p &* inner
                            for i in 0..<inner { dst[o &+ i] = src[o &+ i] > 0 ? g[o &+ i] : s * g[o &+ i] }
                        }
                    }
                }
            }
            if needSlope {
                let sums = Tensor(shape: [channels]) { out in
                    let g = dy.storage.base, src = x.storage.base, dst = out.baseAddress!
                    parallelFor(channels, grain: Swift.max(1, 16_384 / Swift.max(inner &* batch, 1))) { range in
                        for c in range {
                            var total: Float = 0
                            for n in 0..<batch {
                                let o = (n &* channels &+ c) &* inner
                                total += Tensor.negativePartDot(g + o, src + o, inner)
                            }
                            dst[c] = total
                        }
                    }
                }
                da = perChannel ? sums : sums.sum().reshaped(to: [1])
            }
            return [dx, da]
        }
    }

    /// `Σ g[i] · min(x[i], 0)` with `SIMD8` accumulators.
    @inline(__always)
    static func negativePartDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x)
        var acc = SIMD8<Float>()
        let zero = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let xv = rx.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            acc += rg.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) * zero.replacing(with: xv, where: xv .< zero)
            i &+= 8
        }
        var s = acc.sum()
        while i < n { s += g[i] * Swift.min(x[i], 0); i &+= 1 }
        return s
    }
}
