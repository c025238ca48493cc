/// Reduction kernels over the middle axis of a `[outer, n, inner]` view, with `SIMD8`
/// accumulators for contiguous rows.
enum Reduce {
    enum Kind { case sum, max, min }

    /// Sum of `n` contiguous floats.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(p)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= n {
            a0 += raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
            i &+= 16
        }
        var s = (a0 + a1).sum()
        while i < n { s += p[i]; i &+= 1 }
        return s
    }

    /// Dot product of `n` contiguous floats.
    @inline(__always)
    static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
        let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= n {
            a0 += rp.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rq.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            a1 += rp.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
                * rq.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
            i &+= 16
        }
        var s = (a0 + a1).sum()
        while i < n { s += p[i] * q[i]; i &+= 1 }
        return s
    }

    /// Maximum (or minimum) of `n ≥ 1` contiguous floats. NaN propagates.
    @inline(__always)
    static func extreme(_ p: UnsafePointer<Float>, _ n: Int, max isMax: Bool) -> Float {
        var best = p[0], sawNaN = p[0].isNaN
        var i = 1
        if n >= 16 {
            let raw = UnsafeRawPointer(p)
            var acc = raw.loadUnaligned(as: SIMD8<Float>.self)
            var nan = acc .!= acc
            i = 8
            while i &+ 8 <= n {
                let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                nan .|= v .!= v
                acc = isMax ? pointwiseMax(acc, v) : pointwiseMin(acc, v)
                i &+= 8
            }
            best = isMax ? acc.max() : acc.min()
            sawNaN = any(nan)
        }
        while i < n {
            let v = p[i]
            if v.isNaN { sawNaN = true } else if isMax ? v > best : v < best { best = v }
            i &+= 1
        }
        return sawNaN ? .nan : best
    }

    /// Reduces the middle axis of `x` seen as `[outer, n, inner]`; the result has
    /// `outer · inner` elements in row-major order.
    static func middle(_ x: Tensor, outer: Int, n: Int, inner: Int, kind: Kind, resultShape: [Int]) -> Tensor {
        precondition(n > 0 || kind == .sum, "\(kind): cannot reduce an empty axis of a tensor of shape \(x.shape)")
        return Tensor(shape: resultShape) { out in
            let src = x.storage.base, dst = out.baseAddress!
            if inner == 1 && outer == 1 && kind == .sum {
                dst[0] = chunkedSum(src, n)
            } else if inner == 1 {
                parallelFor(outer, grain: max(1, Elementwise.grain / max(n, 1))) { rows in
                    for o in rows {
                        let row = src + o &* n
                        dst[o] = kind == .sum ? sum(row, n) : extreme(row, n, max: kind == .max)
                    }
                }
            } else {
                parallelFor(outer, grain: max(1, Elementwise.grain / max(n &* inner, 1))) { rows in
                    for o in rows {
                        let d = dst + o &* inner
                        let s = src + o &* n &* inner
                        if n == 0 { for i in 0..<inner { d[i] = 0 }; continue }
                        for i in 0..<inner { d[i] = s[i] }
                        for j in 1..<n {
                            let r = s + j &* inner
                            switch kind {
                            case .sum: for i in 0..<inner { d[i] += r[i] }
                            case .max: for i in 0..<inner { let v = r[i]; if v > d[i] || v.isNaN { d[i] = v } }
                            case .min: for i in 0..<inner { let v = r[i]; if v < d[i] || v.isNaN { d[i] = v } }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sum of a long contiguous run, split over threads into a fixed number of partial sums
    /// (deterministic for a fixed thread count).
    static func chunkedSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        let chunks = Swift.min(Parallel.threadCount, Swift.max(1, n / Elementwise.grain))
        if chunks == 1 { return sum(p, n) }
        var partial = [Float](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { partials in
            let slots = partials.baseAddress!
            parallelFor(chunks) { range in
                for c in range {
                    let start = n * c / chunks, end = n * (c + 1) / chunks
                    slots[c] = sum(p + start, end - start)
                }
            }
        }
        return partial.reduce(0, +)
    }

    /// Index of the maximum (or minimum) along the middle axis; first index wins ties, and the
    /// first NaN wins over every number (as PyTorch's: the index of what `max` returns).
    static func argExtreme(_ x: Tensor, outer: Int, n: Int, inner: Int, max isMax: Bool) -> [Int] {
        precondition(n > 0, "\(isMax ? "argmax" : "argmin"): cannot reduce an empty axis of a tensor of shape \(x.shape)")
        var result = [Int](repeating: 0, count: outer * inner)
        let src = x.storage.base
        for o in 0..<outer {
            for i in 0..<inner {
                var best = src[o &* n &* inner &+ i], bestIndex = 0
                for j in 1..<n where !best.isNaN {
                    let v = src[(o &* n &+ j) &* inner &+ i]
                    if v.isNaN || (isMax ? v > best : v < best) { best = v; bestIndex = j }
                }
                result[o * inner + i] = bestIndex
            }
        }
        return result
    }
}
