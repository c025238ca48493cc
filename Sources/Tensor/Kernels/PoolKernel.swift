/// Max and average pooling loops, one `[H, W]` plane per task.
enum PoolKernel {
    struct Geometry {
        let planes, height, width, kernelHeight, kernelWidth: Int
        let strideHeight, strideWidth, padHeight, padWidth, outHeight, outWidth: Int
        var inPlane: Int { height &* width }
        var outPlane: Int { outHeight &* outWidth }

        /// Input rows and columns `[start, end)` under output `(i, j)`, clipped to the input.
        @inline(__always)
        func window(_ i: Int, _ j: Int) -> (y0: Int, y1: Int, x0: Int, x1: Int) {
            let y = i &* strideHeight &- padHeight, x = j &* strideWidth &- padWidth
            return (Swift.max(y, 0), Swift.min(y &+ kernelHeight, height), Swift.max(x, 0), Swift.min(x &+ kernelWidth, width))
        }

        var grain: Int { Swift.max(1, 16_384 / Swift.max(inPlane, 1)) }
    }

    /// Maxima and the plane offsets of their first occurrence (NaN wins, as in PyTorch).
    static func maxForward(_ g: Geometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        parallelFor(g.planes, grain: g.grain) { range in
            for p in range {
                let src = x + p &* g.inPlane
                for i in 0..<g.outHeight {
                    for j in 0..<g.outWidth {
                        let (y0, y1, x0, x1) = g.window(i, j)
                        var best = -Float.infinity, bestIndex = y0 &* g.width &+ x0
                        for r in y0..<y1 {
                            for c in x0..<x1 {
                                let v = src[r &* g.width &+ c]
                                if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = r &* g.width &+ c }
                            }
                        }
                        let o = p &* g.outPlane &+ i &* g.outWidth &+ j
                        y[o] = best
                        argmax[o] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    /// Routes each output gradient to its maximum; writes every element of `dx`.
    static func maxBackward(_ g: Geometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, dx: UnsafeMutablePointer<Float>) {
        parallelFor(g.planes, grain: g.grain) { range in
            for p in range {
                let dst = dx + p &* g.inPlane
                dst.update(repeating: 0, count: g.inPlane)
                let o = p &* g.outPlane
                for k in 0..<g.outPlane { dst[Int(argmax[o &+ k])] += dy[o &+ k] }
            }
        }
    }

    /// Window means; the divisor is the full window (`countIncludePad`) or its valid part.
    static func averageForward(_ g: Geometry, countIncludePad: Bool, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        parallelFor(g.planes, grain: g.grain) { range in
            for p in range {
                let src = x + p &* g.inPlane
                for i in 0..<g.outHeight {
                    for j in 0..<g.outWidth {
                        let (y0, y1, x0, x1) = g.window(i, j)
                        var s: Float = 0
                        for r in y0..<y1 { for c in x0..<x1 { s += src[r &* g.width &+ c] } }
                        y[p &* g.outPlane &+ i &* g.outWidth &+ j] = s / divisor(g, countIncludePad, y0, y1, x0, x1)
                    }
                }
            }
        }
    }

    /// Spreads each output gradient evenly over its window; writes every element of `dx`.
    static func averageBackward(_ g: Geometry, countIncludePad: Bool, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        parallelFor(g.planes, grain: g.grain) { range in
            for p in range {
                let dst = dx + p &* g.inPlane
                dst.update(repeating: 0, count: g.inPlane)
                for i in 0..<g.outHeight {
                    for j in 0..<g.outWidth {
                        let (y0, y1, x0, x1) = g.window(i, j)
                        let share = dy[p &* g.outPlane &+ i &* g.outWidth &+ j] / divisor(g, countIncludePad, y0, y1, x0, x1)
                        for r in y0..<y1 { for c in x0..<x1 { dst[r &* g.width &+ c] += share } }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func divisor(_ g: Geometry, _ countIncludePad: Bool, _ y0: Int, _ y1: Int, _ x0: Int, _ x1: Int) -> Float {
        countIncludePad ? Float(g.kernelHeight &* g.kernelWidth) : Float(Swift.max((y1 &- y0) &* (x1 &- x0), 1))
    }
}
