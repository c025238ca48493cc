/// Elementwise kernels: unary maps and binary maps with NumPy broadcasting.
///
/// Maps are plain loops over unsafe pointers with wrapping index arithmetic (the compiler
/// vectorises them); large tensors are split over ``parallelFor(_:grain:_:)``.
enum Elementwise {
    /// Elements per chunk below which a map stays on one thread.
    static let grain = 1 << 15

    @inline(__always)
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        Tensor(shape: x.shape) { out in
            let src = x.storage.base, dst = out.baseAddress!
            parallelFor(x.count, grain: grain) { range in
                var i = range.lowerBound
                while i < range.upperBound { dst[i] = f(src[i]); i &+= 1 }
            }
        }
    }

    /// `f(a, b)` elementwise over the broadcast shape of `a` and `b`.
    @inline(__always)
    static func zip(_ a: Tensor, _ b: Tensor, _ function: StaticString, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            return Tensor(shape: a.shape) { out in
                let pa = a.storage.base, pb = b.storage.base, dst = out.baseAddress!
                parallelFor(a.count, grain: grain) { range in
                    var i = range.lowerBound
                    while i < range.upperBound { dst[i] = f(pa[i], pb[i]); i &+= 1 }
                }
            }
        }
        let shape = Shape.broadcast(a.shape, b.shape, function)
        let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
        return Tensor(shape: shape) { out in
            let pa = a.storage.base, pb = b.storage.base, dst = out.baseAddress!
            let inner = plan.inner, sa = plan.innerStrideA, sb = plan.innerStrideB
            parallelFor(plan.outerCount, grain: max(1, grain / max(inner, 1))) { rows in
                for row in rows {
                    let (oa, ob) = plan.offsets(ofRow: row)
                    let base = row &* inner
                    if sa == 1 && sb == 1 {
                        for j in 0..<inner { dst[base &+ j] = f(pa[oa &+ j], pb[ob &+ j]) }
                    } else if sa == 1 {
                        let vb = pb[ob]
                        for j in 0..<inner { dst[base &+ j] = f(pa[oa &+ j], vb) }
                    } else if sb == 1 {
                        let va = pa[oa]
                        for j in 0..<inner { dst[base &+ j] = f(va, pb[ob &+ j]) }
                    } else {
                        let value = f(pa[oa], pb[ob])
                        for j in 0..<inner { dst[base &+ j] = value }
                    }
                }
            }
        }
    }
}

/// How to walk two inputs broadcast to a common shape: the output is seen as `outerCount`
/// rows of `inner` contiguous elements; inside a row each input advances with stride 1 or 0.
struct BroadcastPlan {
    let inner: Int
    let innerStrideA: Int
    let innerStrideB: Int
    let outerCount: Int
    private let outerShape: [Int]
    private let outerStridesA: [Int]
    private let outerStridesB: [Int]

    init(shape: [Int], a: [Int], b: [Int]) {
        // Merge adjacent dimensions that broadcast the same way, so that e.g. a per-channel
        // bias [1, C, 1, 1] over [N, C, H, W] becomes rows of H·W elements.
        var dims: [(size: Int, sa: Int, sb: Int)] = []
        let stridesA = Shape.broadcastStrides(a, to: shape), stridesB = Shape.broadcastStrides(b, to: shape)
        for axis in shape.indices where shape[axis] != 1 {
            let d = (size: shape[axis], sa: stridesA[axis], sb: stridesB[axis])
            if let last = dims.last,
               (last.sa == 0) == (d.sa == 0), (last.sb == 0) == (d.sb == 0),
               last.sa == 0 || last.sa == d.sa * d.size, last.sb == 0 || last.sb == d.sb * d.size {
                dims[dims.count - 1] = (last.size * d.size, d.sa, d.sb)
            } else {
                dims.append(d)
            }
        }
        let innermost = dims.popLast() ?? (1, 0, 0)
        inner = innermost.size
        innerStrideA = innermost.sa == 0 ? 0 : 1
        innerStrideB = innermost.sb == 0 ? 0 : 1
        outerShape = dims.map(\.size)
        outerStridesA = dims.map(\.sa)
        outerStridesB = dims.map(\.sb)
        outerCount = outerShape.reduce(1, *)
    }

    /// Offsets into `a` and `b` of the first element of output row `row`.
    @inline(__always)
    func offsets(ofRow row: Int) -> (Int, Int) {
        var rest = row, oa = 0, ob = 0
        var axis = outerShape.count &- 1
        while axis >= 0 {
            let size = outerShape[axis]
            let i = rest % size
            rest /= size
            oa &+= i &* outerStridesA[axis]
            ob &+= i &* outerStridesB[axis]
            axis &-= 1
        }
        return (oa, ob)
    }
}
