/// Fused batch-normalisation loops over an `[N, C, inner]` view, one channel (or one plane)
/// per task. Sums are taken per contiguous plane with `SIMD8` accumulators and combined in
/// double precision.
enum BatchNormKernel {
    struct Layout {
        let batch, channels, inner: Int
        var count: Int { batch &* inner }

        init(_ shape: [Int]) {
            batch = shape[0]
            channels = shape[1]
            inner = shape.dropFirst(2).reduce(1, *)
        }

        @inline(__always) func plane(_ n: Int, _ c: Int) -> Int { (n &* channels &+ c) &* inner }
    }

    static func channelGrain(_ l: Layout) -> Int { Swift.max(1, 16_384 / Swift.max(l.count, 1)) }

    /// Batch statistics, then `y = (x − μ)·invstd·γ + β`. Writes `mean` and `invstd` per channel
    /// and returns nothing else; `variance` receives the biased batch variance.
    static func trainingForward(_ l: Layout, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                epsilon: Float, y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                variance: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        parallelFor(l.channels, grain: channelGrain(l)) { range in
            for c in range {
                var total = 0.0
                for n in 0..<l.batch { total += Double(Reduce.sum(x + l.plane(n, c), l.inner)) }
                let mu = Float(total / Double(l.count))
                var squares = 0.0
                for n in 0..<l.batch { squares += Double(centredSquares(x + l.plane(n, c), l.inner, mu)) }
                let v = Float(squares / Double(l.count))
                let inv = 1 / (v + epsilon).squareRoot()
                mean[c] = mu
                variance[c] = v
                invstd[c] = inv
                let scale = inv * (gamma?[c] ?? 1), shift = (beta?[c] ?? 0) - mu * scale
                for n in 0..<l.batch {
                    let src = x + l.plane(n, c), dst = y + l.plane(n, c)
                    for k in 0..<l.inner { dst[k] = src[k] * scale + shift }
                }
            }
        }
    }

    /// `Σ (p[k] − μ)²` with `SIMD8` accumulators.
    @inline(__always)
    static func centredSquares(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
        let raw = UnsafeRawPointer(p), m = SIMD8<Float>(repeating: mu)
        var a = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - m
            a += d * d
            i &+= 8
        }
        var s = a.sum()
        while i < n { let d = p[i] - mu; s += d * d; i &+= 1 }
        return s
    }

    /// `Σ dy` and `Σ dy·(x − μ)` of one plane.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> (Float, Float) {
        let rg = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x), m = SIMD8<Float>(repeating: mu)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let g = rg.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            s0 += g
            s1 += g * (rx.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - m)
            i &+= 8
        }
        var a = s0.sum(), b = s1.sum()
        while i < n { a += dy[i]; b += dy[i] * (x[i] - mu); i &+= 1 }
        return (a, b)
    }

    /// Gradients of the training-mode transform (statistics of the batch):
    ///
    ///     dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invstd·(dy − dβ/M − x̂·dγ/M)
    ///
    /// `dx` is written when non-nil; `dGamma`/`dBeta` receive the sums when non-nil.
    static func trainingBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                                 dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        parallelFor(l.channels, grain: channelGrain(l)) { range in
            for c in range {
                let mu = mean[c], inv = invstd[c]
                var sumDy = 0.0, sumDyXc = 0.0
                for n in 0..<l.batch {
                    let (a, b) = gradientSums(dy + l.plane(n, c), x + l.plane(n, c), l.inner, mu)
                    sumDy += Double(a)
                    sumDyXc += Double(b)
                }
                dBeta?[c] = Float(sumDy)
                dGamma?[c] = Float(sumDyXc) * inv
                guard let dx else { continue }
                let m = Float(l.count)
                let k = (gamma?[c] ?? 1) * inv
                let meanDy = Float(sumDy) / m
                let slope = Float(sumDyXc) * inv * inv / m  // (dγ/M)·invstd, applied to (x − μ)
                for n in 0..<l.batch {
                    let g = dy + l.plane(n, c), src = x + l.plane(n, c), dst = dx + l.plane(n, c)
                    for i in 0..<l.inner { dst[i] = k * (g[i] - meanDy - (src[i] - mu) * slope) }
                }
            }
        }
    }

    /// `y = x·scale[c] + shift[c]` (evaluation mode with folded statistics).
    static func affine(_ l: Layout, x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                       y: UnsafeMutablePointer<Float>) {
        parallelFor(l.batch &* l.channels, grain: Swift.max(1, 16_384 / Swift.max(l.inner, 1))) { range in
            for p in range {
                let c = p % l.channels, a = scale[c], b = shift[c]
                let src = x + p &* l.inner, dst = y + p &* l.inner
                for i in 0..<l.inner { dst[i] = src[i] * a + b }
            }
        }
    }
}
