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
    /// With `m = +0` the subtraction, which changes nothing then, is skipped.
    @inline(__always)
    static func affinePReLU(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ m: Float, _ s: Float,
                            _ b: Float, _ a: Float) {
        let m8 = SIMD8<Float>(repeating: m), s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        if m == 0 && m.sign == .plus {
            mapPReLU(src, dst, n, a) { x in x * s8 + b8 }
        } else {
            mapPReLU(src, dst, n, a) { x in (x - m8) * s8 + b8 }
        }
    }

    /// `dst = prelu(z(src), a)`, eight values at a time. For `a ≤ 1` other than 0,
    /// `prelu(z) = max(z, a·z)` exactly (the same value and sign of zero as `z > 0 ? z : a·z`,
    /// infinities and NaN included; `a = 0` would turn `+∞` into `0·∞`), which is one `maxps`
    /// instead of a compare and a three-instruction select.
    @inline(__always)
    static func mapPReLU(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float,
                         _ z: (SIMD8<Float>) -> SIMD8<Float>) {
        let a8 = SIMD8<Float>(repeating: a), zero = SIMD8<Float>()
        var i = 0
        if a <= 1 && a != 0 {
            while i &+ 8 <= n {
                let v = z(load8(src + i)), av = a8 * v
                store8(av.replacing(with: v, where: v .> av), dst + i)
                i &+= 8
            }
        } else {
            while i &+ 8 <= n {
                let v = z(load8(src + i))
                store8((a8 * v).replacing(with: v, where: v .> zero), dst + i)
                i &+= 8
            }
        }
        while i < n {
            let v = z(SIMD8(repeating: src[i]))[0]
            dst[i] = v > 0 ? v : a * v
            i &+= 1
        }
    }

    /// Training forward: batch statistics (written to `mean`, `variance`, `invstd`) in one pass
    /// (``BatchNormKernel/statistics(_:_:gamma:epsilon:mean:variance:invstd:scale:)``), then `y` in a second.
    static func trainingForward(_ l: Layout, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                slope: UnsafePointer<Float>, perChannelSlope: Bool, epsilon: Float, y: UnsafeMutablePointer<Float>,
                                mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: l.channels) { buffer in
            let scale = buffer.baseAddress!
            BatchNormKernel.statistics(l, x, gamma: gamma, epsilon: epsilon, mean: mean, variance: variance, invstd: invstd,
                                       scale: scale)
            BatchNormKernel.forEachPlane(l) { n, c in
                let offset = l.plane(n, c)
                affinePReLU(x + offset, y + offset, l.inner, mean[c], scale[c], beta?[c] ?? 0, slope[perChannelSlope ? c : 0])
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

    /// Gradients of the fused training transform, in two passes (the per-channel sums, then `dx`).
    /// `dSlope` receives per-channel sums (the caller adds them up for a shared slope).
    static func trainingBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                 slope: UnsafePointer<Float>, perChannelSlope: Bool, dx: UnsafeMutablePointer<Float>?,
                                 dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                 dSlope: UnsafeMutablePointer<Float>) {
        BatchNormKernel.withChannelSums(l, width: 3, plane: { n, c, sums in
            let offset = l.plane(n, c)
            store(planeSums(dy + offset, x + offset, l.inner, mean[c], invstd[c] * (gamma?[c] ?? 1), beta?[c] ?? 0,
                            slope[perChannelSlope ? c : 0]), to: sums)
        }) { sums in
            storeParameterGradients(sums, l.channels, invstd: invstd, dGamma: dGamma, dBeta: dBeta, dSlope: dSlope)
            guard let dx else { return }
            let m = Float(l.count)
            BatchNormKernel.forEachPlane(l) { n, c in
                let inv = invstd[c], k = inv * (gamma?[c] ?? 1)
                // dx = k·(dz − dβ/M − (x − μ)·invstd·dγ/M), z = (x − μ)·k + β as in the forward pass
                let q = k * Float(sums[3 &* c &+ 1]) * inv * inv / m, r = -k * Float(sums[3 &* c]) / m
                let offset = l.plane(n, c)
                inputGradientPlane(dy + offset, x + offset, dx + offset, l.inner, mean[c], k, beta?[c] ?? 0,
                                   slope[perChannelSlope ? c : 0], k, q, r)
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
        BatchNormKernel.withChannelSums(l, width: 3, plane: { n, c, sums in
            let s = scale[c], t = shift[c], a = slope[perChannelSlope ? c : 0], mu = mean[c]
            let offset = l.plane(n, c)
            // z = (x − μ)·s + (t + μ·s): the forward's x·s + t up to rounding.
            store(planeSums(dy + offset, x + offset, l.inner, mu, s, t + mu * s, a), to: sums)
            if let dx {
                let g = dy + offset, src = x + offset, dst = dx + offset
                for i in 0..<l.inner {
                    let z = src[i] * s + t
                    dst[i] = (z > 0 ? g[i] : a * g[i]) * s
                }
            }
        }) { sums in
            storeParameterGradients(sums, l.channels, invstd: invstd, dGamma: dGamma, dBeta: dBeta, dSlope: dSlope)
        }
    }

    /// One plane's ``planeSums(_:_:_:_:_:_:_:)`` as its three per-plane values.
    @inline(__always)
    static func store(_ sums: (Float, Float, Float), to values: UnsafeMutablePointer<Double>) {
        values[0] = Double(sums.0)
        values[1] = Double(sums.1)
        values[2] = Double(sums.2)
    }

    /// `dβ = Σ dz`, `dγ = Σ dz·(x − μ)·invstd`, `da = Σ dy·min(z, 0)` per channel from the
    /// channel sums of ``planeSums(_:_:_:_:_:_:_:)`` (three per channel).
    @inline(__always)
    static func storeParameterGradients(_ sums: UnsafePointer<Double>, _ channels: Int, invstd: UnsafePointer<Float>,
                                        dGamma: UnsafeMutablePointer<Float>, dBeta: UnsafeMutablePointer<Float>,
                                        dSlope: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            dBeta[c] = Float(sums[3 &* c])
            dGamma[c] = Float(sums[3 &* c &+ 1]) * invstd[c]
            dSlope[c] = Float(sums[3 &* c &+ 2])
        }
    }
}
