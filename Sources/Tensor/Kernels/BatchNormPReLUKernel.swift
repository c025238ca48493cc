/// Batch normalisation followed by a per-channel PReLU in one pass (MobileFaceNet's and
/// IResNet's `BN → PReLU`): the normalised tensor `z` is never stored — the backward pass
/// recomputes it from `x` and the saved statistics.
///
///     z = x·s + t                      s = γ·invstd, t = β − μ·s
///     y = z > 0 ? z : a·z
///     dz = dy · (z > 0 ? 1 : a),   da = Σ dy·min(z, 0)
///
/// and `dz` feeds the BatchNorm gradients of ``BatchNormKernel``.
enum BatchNormPReLUKernel {
    typealias Layout = BatchNormKernel.Layout

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
    }

    /// `dst = prelu(src·s + t, a)` over one plane.
    @inline(__always)
    static func affinePReLU(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ s: Float, _ t: Float, _ a: Float) {
        for i in 0..<n {
            let z = src[i] * s + t
            dst[i] = z > 0 ? z : a * z
        }
    }

    /// Training forward: batch statistics (written to `mean`, `variance`, `invstd`), then `y`.
    static func trainingForward(_ l: Layout, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                slope: UnsafePointer<Float>, perChannelSlope: Bool, epsilon: Float, y: UnsafeMutablePointer<Float>,
                                mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        parallelFor(l.channels, grain: BatchNormKernel.channelGrain(l)) { range in
            for c in range {
                var total = 0.0
                for n in 0..<l.batch { total += Double(Reduce.sum(x + l.plane(n, c), l.inner)) }
                let mu = Float(total / Double(l.count))
                var squares = 0.0
                for n in 0..<l.batch { squares += Double(BatchNormKernel.centredSquares(x + l.plane(n, c), l.inner, mu)) }
                let v = Float(squares / Double(l.count))
                let inv = 1 / (v + epsilon).squareRoot()
                mean[c] = mu
                variance[c] = v
                invstd[c] = inv
                let s = inv * (gamma?[c] ?? 1), t = (beta?[c] ?? 0) - mu * s
                let a = slope[perChannelSlope ? c : 0]
                for n in 0..<l.batch { affinePReLU(x + l.plane(n, c), y + l.plane(n, c), l.inner, s, t, a) }
            }
        }
    }

    /// Evaluation forward with folded statistics `scale`/`shift`.
    static func inferenceForward(_ l: Layout, x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                 slope: UnsafePointer<Float>, perChannelSlope: Bool, y: UnsafeMutablePointer<Float>) {
        parallelFor(l.batch &* l.channels, grain: Swift.max(1, 16_384 / Swift.max(l.inner, 1))) { range in
            for p in range {
                let c = p % l.channels
                affinePReLU(x + p &* l.inner, y + p &* l.inner, l.inner, scale[c], shift[c], slope[perChannelSlope ? c : 0])
            }
        }
    }

    /// Sums of one plane: `Σ dz`, `Σ dz·(x − μ)`, `Σ dy·min(z, 0)`.
    @inline(__always)
    static func planeSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float, _ s: Float, _ t: Float,
                          _ a: Float) -> (Float, Float, Float) {
        let m8 = SIMD8<Float>(repeating: mu), s8 = SIMD8<Float>(repeating: s), t8 = SIMD8<Float>(repeating: t)
        let a8 = SIMD8<Float>(repeating: a), zero = SIMD8<Float>()
        var sumDz = SIMD8<Float>(), sumDzXc = SIMD8<Float>(), sumNeg = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let xv = load8(x, i), g = load8(dy, i)
            let z = xv * s8 + t8
            let positive = z .> zero
            let dz = (a8 * g).replacing(with: g, where: positive)
            sumDz += dz
            sumDzXc += dz * (xv - m8)
            sumNeg += (g * z).replacing(with: 0, where: positive)
            i &+= 8
        }
        var r0 = sumDz.sum(), r1 = sumDzXc.sum(), r2 = sumNeg.sum()
        while i < n {
            let z = x[i] * s + t
            let dz = z > 0 ? dy[i] : a * dy[i]
            r0 += dz
            r1 += dz * (x[i] - mu)
            if z <= 0 { r2 += dy[i] * z }
            i &+= 1
        }
        return (r0, r1, r2)
    }

    /// Gradients of the fused training transform. `dSlope` receives per-channel sums (the
    /// caller adds them up for a shared slope).
    static func trainingBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                 slope: UnsafePointer<Float>, perChannelSlope: Bool, dx: UnsafeMutablePointer<Float>?,
                                 dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                 dSlope: UnsafeMutablePointer<Float>) {
        parallelFor(l.channels, grain: BatchNormKernel.channelGrain(l)) { range in
            for c in range {
                let mu = mean[c], inv = invstd[c], gm = gamma?[c] ?? 1
                let s = inv * gm, t = (beta?[c] ?? 0) - mu * s
                let a = slope[perChannelSlope ? c : 0]
                var sumDz = 0.0, sumDzXc = 0.0, sumNeg = 0.0
                for n in 0..<l.batch {
                    let (p, q, r) = planeSums(dy + l.plane(n, c), x + l.plane(n, c), l.inner, mu, s, t, a)
                    sumDz += Double(p)
                    sumDzXc += Double(q)
                    sumNeg += Double(r)
                }
                dBeta[c] = Float(sumDz)
                dGamma[c] = Float(sumDzXc) * inv
                dSlope[c] = Float(sumNeg)
                guard let dx else { continue }
                let m = Float(l.count)
                let k = gm * inv, meanDz = Float(sumDz) / m, coefficient = Float(sumDzXc) * inv * inv / m
                for n in 0..<l.batch {
                    let g = dy + l.plane(n, c), src = x + l.plane(n, c), dst = dx + l.plane(n, c)
                    for i in 0..<l.inner {
                        let z = src[i] * s + t
                        let dz = z > 0 ? g[i] : a * g[i]
                        dst[i] = k * (dz - meanDz - (src[i] - mu) * coefficient)
                    }
                }
            }
        }
    }

    /// Gradients of the fused evaluation transform (statistics are constants):
    /// `dx = dz·s`, `dγ = Σ dz·(x − μ)·invstd`, `dβ = Σ dz`, `da = Σ dy·min(z, 0)`.
    static func inferenceBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                  invstd: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                  slope: UnsafePointer<Float>, perChannelSlope: Bool, dx: UnsafeMutablePointer<Float>?,
                                  dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                  dSlope: UnsafeMutablePointer<Float>) {
        parallelFor(l.channels, grain: BatchNormKernel.channelGrain(l)) { range in
            for c in range {
                let s = scale[c], t = shift[c], a = slope[perChannelSlope ? c : 0], mu = mean[c]
                var sumDz = 0.0, sumDzXc = 0.0, sumNeg = 0.0
                for n in 0..<l.batch {
                    let g = dy + l.plane(n, c), src = x + l.plane(n, c)
                    let (p, q, r) = planeSums(g, src, l.inner, mu, s, t, a)
                    sumDz += Double(p)
                    sumDzXc += Double(q)
                    sumNeg += Double(r)
                    if let dx {
                        let dst = dx + l.plane(n, c)
                        for i in 0..<l.inner {
                            let z = src[i] * s + t
                            dst[i] = (z > 0 ? g[i] : a * g[i]) * s
                        }
                    }
                }
                dBeta[c] = Float(sumDz)
                dGamma[c] = Float(sumDzXc) * invstd[c]
                dSlope[c] = Float(sumNeg)
            }
        }
    }
}
