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

    /// `dst = prelu((src − m)·s + b, a)` over one plane (training: `m = μ`, `b = β`, the
    /// `z` that the backward pass recomputes; evaluation: `m = 0` with the folded shift).
    @inline(__always)
    static func affinePReLU(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ m: Float, _ s: Float,
                            _ b: Float, _ a: Float) {
        let m8 = SIMD8<Float>(repeating: m), s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        let a8 = SIMD8<Float>(repeating: a), zero = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let z = (load8(src + i) - m8) * s8 + b8
            store8((a8 * z).replacing(with: z, where: z .> zero), dst + i)
            i &+= 8
        }
        while i < n {
            let z = (src[i] - m) * s + b
            dst[i] = z > 0 ? z : a * z
            i &+= 1
        }
    }

    /// Training forward: batch statistics (written to `mean`, `variance`, `invstd`) in one pass
    /// (``BatchNormKernel/rangeNormalisation(_:_:_:_:gamma:epsilon:mean:variance:invstd:)``), then `y` in a second.
    static func trainingForward(_ l: Layout, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                slope: UnsafePointer<Float>, perChannelSlope: Bool, epsilon: Float, y: UnsafeMutablePointer<Float>,
                                mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        BatchNormKernel.forEachChannelRange(l, scratchPerChannel: 2) { channels, scratch in
            BatchNormKernel.rangeNormalisation(l, x, channels, scratch, gamma: gamma, epsilon: epsilon, mean: mean,
                                               variance: variance, invstd: invstd)
            let acc = scratch.baseAddress!
            for n in 0..<l.batch {
                var j = 0
                for c in channels {
                    let offset = l.plane(n, c)
                    affinePReLU(x + offset, y + offset, l.inner, mean[c], Float(acc[j]), beta?[c] ?? 0, slope[perChannelSlope ? c : 0])
                    j &+= 2
                }
            }
        }
    }

    /// Evaluation forward with folded statistics `scale`/`shift`.
    static func inferenceForward(_ l: Layout, x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                 slope: UnsafePointer<Float>, perChannelSlope: Bool, y: UnsafeMutablePointer<Float>) {
        parallelFor(l.batch &* l.channels, grain: Swift.max(1, 16_384 / Swift.max(l.inner, 1))) { range in
            for p in range {
                let c = p % l.channels
                affinePReLU(x + p &* l.inner, y + p &* l.inner, l.inner, 0, scale[c], shift[c], slope[perChannelSlope ? c : 0])
            }
        }
    }

    /// Sums of one plane: `Σ dz`, `Σ dz·(x − μ)`, `Σ dy·min(z, 0)` with `z = (x − μ)·s + b`.
    @inline(__always)
    static func planeSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float, _ s: Float, _ b: Float,
                          _ a: Float) -> (Float, Float, Float) {
        let m8 = SIMD8<Float>(repeating: mu), s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        let a8 = SIMD8<Float>(repeating: a), zero = SIMD8<Float>()
        var sumDz = SIMD8<Float>(), sumDzXc = SIMD8<Float>(), sumNeg = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let xc = load8(x + i) - m8, g = load8(dy + i)
            let z = xc * s8 + b8
            let positive = z .> zero
            let dz = (a8 * g).replacing(with: g, where: positive)
            sumDz += dz
            sumDzXc += dz * xc
            sumNeg += (g * z).replacing(with: 0, where: positive)
            i &+= 8
        }
        var r0 = sumDz.sum(), r1 = sumDzXc.sum(), r2 = sumNeg.sum()
        while i < n {
            let xc = x[i] - mu, z = xc * s + b
            let dz = z > 0 ? dy[i] : a * dy[i]
            r0 += dz
            r1 += dz * xc
            if z <= 0 { r2 += dy[i] * z }
            i &+= 1
        }
        return (r0, r1, r2)
    }

    /// `dst = k·dz − (x − μ)·q + r` over one plane with `dz` recomputed from `x` and `dy`
    /// (`z = (x − μ)·s + b`).
    @inline(__always)
    static func inputGradientPlane(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                                   _ mu: Float, _ s: Float, _ b: Float, _ a: Float, _ k: Float, _ q: Float, _ r: Float) {
        let m8 = SIMD8<Float>(repeating: mu), s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        let a8 = SIMD8<Float>(repeating: a), k8 = SIMD8<Float>(repeating: k), q8 = SIMD8<Float>(repeating: q)
        let r8 = SIMD8<Float>(repeating: r), zero = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let xc = load8(x + i) - m8, gv = load8(g + i)
            let dz = (a8 * gv).replacing(with: gv, where: xc * s8 + b8 .> zero)
            store8(k8 * dz - xc * q8 + r8, dst + i)
            i &+= 8
        }
        while i < n {
            let xc = x[i] - mu
            let dz = xc * s + b > 0 ? g[i] : a * g[i]
            dst[i] = k * dz - xc * q + r
            i &+= 1
        }
    }

    /// Gradients of the fused training transform, in two passes over each channel range (the sums,
    /// then `dx`). `dSlope` receives per-channel sums (the caller adds them up for a shared slope).
    static func trainingBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                 slope: UnsafePointer<Float>, perChannelSlope: Bool, dx: UnsafeMutablePointer<Float>?,
                                 dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                 dSlope: UnsafeMutablePointer<Float>) {
        BatchNormKernel.forEachChannelRange(l, scratchPerChannel: 3) { channels, scratch in
            let acc = scratch.baseAddress!
            for n in 0..<l.batch {
                var j = 0
                for c in channels {
                    let offset = l.plane(n, c)
                    add(planeSums(dy + offset, x + offset, l.inner, mean[c], invstd[c] * (gamma?[c] ?? 1), beta?[c] ?? 0,
                                  slope[perChannelSlope ? c : 0]), to: acc + j)
                    j &+= 3
                }
            }
            storeParameterGradients(channels, acc, invstd: invstd, dGamma: dGamma, dBeta: dBeta, dSlope: dSlope)
            guard let dx else { return }
            let m = Float(l.count)
            for n in 0..<l.batch {
                var j = 0
                for c in channels {
                    let inv = invstd[c], k = inv * (gamma?[c] ?? 1)
                    // dx = k·(dz − dβ/M − (x − μ)·invstd·dγ/M), z = (x − μ)·k + β as in the forward pass
                    let q = k * Float(acc[j &+ 1]) * inv * inv / m, r = -k * Float(acc[j]) / m
                    let offset = l.plane(n, c)
                    inputGradientPlane(dy + offset, x + offset, dx + offset, l.inner, mean[c], k, beta?[c] ?? 0,
                                       slope[perChannelSlope ? c : 0], k, q, r)
                    j &+= 3
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
        BatchNormKernel.forEachChannelRange(l, scratchPerChannel: 3) { channels, scratch in
            let acc = scratch.baseAddress!
            for n in 0..<l.batch {
                var j = 0
                for c in channels {
                    let s = scale[c], t = shift[c], a = slope[perChannelSlope ? c : 0], mu = mean[c]
                    let offset = l.plane(n, c)
                    // z = (x − μ)·s + (t + μ·s): the forward's x·s + t up to rounding.
                    add(planeSums(dy + offset, x + offset, l.inner, mu, s, t + mu * s, a), to: acc + j)
                    if let dx {
                        let g = dy + offset, src = x + offset, dst = dx + offset
                        for i in 0..<l.inner {
                            let z = src[i] * s + t
                            dst[i] = (z > 0 ? g[i] : a * g[i]) * s
                        }
                    }
                    j &+= 3
                }
            }
            storeParameterGradients(channels, acc, invstd: invstd, dGamma: dGamma, dBeta: dBeta, dSlope: dSlope)
        }
    }

    /// Adds one plane's ``planeSums(_:_:_:_:_:_:_:)`` to a channel's three accumulators.
    @inline(__always)
    static func add(_ sums: (Float, Float, Float), to acc: UnsafeMutablePointer<Double>) {
        acc[0] += Double(sums.0)
        acc[1] += Double(sums.1)
        acc[2] += Double(sums.2)
    }

    /// `dβ = Σ dz`, `dγ = Σ dz·(x − μ)·invstd`, `da = Σ dy·min(z, 0)` of a channel range from the
    /// sums ``planeSums(_:_:_:_:_:_:_:)`` accumulated in `acc` (three per channel).
    @inline(__always)
    static func storeParameterGradients(_ channels: Range<Int>, _ acc: UnsafeMutablePointer<Double>, invstd: UnsafePointer<Float>,
                                        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                        dSlope: UnsafeMutablePointer<Float>) {
        var j = 0
        for c in channels {
            dBeta[c] = Float(acc[j])
            dGamma[c] = Float(acc[j &+ 1]) * invstd[c]
            dSlope[c] = Float(acc[j &+ 2])
            j &+= 3
        }
    }
}
