/// Fused batch-normalisation loops over an `[N, C, inner]` view.
///
/// Every pass runs in parallel over ``parallelFor(_:grain:_:)``'s pieces of the batch, the split
/// the convolutions use, so that each thread reads the planes it wrote itself. (Splitting the
/// channels instead made each thread read half its planes from the other core's cache: when
/// the machine's two vCPUs sit on different dies, where a cache line takes 6× as long to cross,
/// that cost a W5b step about 10 ms.) A pass walks its images' planes in memory order, which the
/// hardware prefetchers follow. Per-channel results are combined from per-plane values
/// (moments, gradient sums) channel by channel, sample by sample: each channel's sums are taken
/// in a fixed order (`SIMD8` lanes per plane, planes combined in double
/// precision), so the results do not depend on the thread count at all.
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

    /// Runs `body(n, c)` on every plane of the samples `images` (default: the whole batch), in
    /// parallel over pieces of them (at least 16 K elements per piece), each piece's planes in
    /// memory order.
    @inline(__always)
    static func forEachPlane(_ l: Layout, images: Range<Int>? = nil, _ body: (_ n: Int, _ c: Int) -> Void) {
        let images = images ?? 0..<l.batch
        parallelFor(images.count, grain: Swift.max(1, 16_384 / Swift.max(l.channels &* l.inner, 1))) { pieces in
            for n in (pieces.lowerBound &+ images.lowerBound)..<(pieces.upperBound &+ images.lowerBound) {
                for c in 0..<l.channels { body(n, c) }
            }
        }
    }

    /// Most per-plane values ``combinePlanes(_:width:plane:channel:)`` holds at once (8 MiB).
    static let heldValues = 1 << 20

    /// `width` values per plane, written by `plane(n, c, values)` in parallel
    /// (``forEachPlane(_:images:_:)``), then folded into the caller's per-channel state by
    /// `channel(c, images, values)` in parallel over the channels: the channel's values of
    /// sample `images.lowerBound + j` are at `values + j·width`, stored channel by channel so that
    /// each channel's are read in one run. A batch whose values would take more than
    /// ``heldValues`` doubles (a large BatchNorm1d) goes in chunks of samples, in order: `channel`
    /// sees each channel's samples once, in order, whatever the chunks.
    @inline(__always)
    static func combinePlanes(_ l: Layout, width: Int, plane: (_ n: Int, _ c: Int, _ values: UnsafeMutablePointer<Double>) -> Void,
                              channel: (_ c: Int, _ images: Range<Int>, _ values: UnsafePointer<Double>) -> Void) {
        let chunk = Swift.max(1, Swift.min(l.batch, heldValues / Swift.max(1, l.channels &* width)))
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(1, chunk &* l.channels &* width)) { buffer in
            let values = buffer.baseAddress!
            var first = 0
            while first < l.batch {
                let images = first..<Swift.min(l.batch, first &+ chunk), perChannel = images.count &* width
                forEachPlane(l, images: images) { n, c in plane(n, c, values + (c &* perChannel &+ (n &- first) &* width)) }
                parallelFor(l.channels, grain: Swift.max(1, 2048 / Swift.max(images.count, 1))) { channels in
                    for c in channels { channel(c, images, values + c &* perChannel) }
                }
                first = images.upperBound
            }
        }
    }

    /// Per-channel sums of `width` per-plane values (``combinePlanes(_:width:plane:channel:)``,
    /// added sample by sample in double precision): `body` gets the `[C × width]` totals.
    @inline(__always)
    static func withChannelSums(_ l: Layout, width: Int, plane: (_ n: Int, _ c: Int, _ values: UnsafeMutablePointer<Double>) -> Void,
                                _ body: (UnsafePointer<Double>) -> Void) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(1, l.channels &* width)) { buffer in
            let totals = buffer.baseAddress!
            totals.initialize(repeating: 0, count: l.channels &* width)
            combinePlanes(l, width: width, plane: plane) { c, images, values in
                let sum = totals + c &* width
                for j in 0..<images.count {
                    for k in 0..<width { sum[k] += values[j &* width &+ k] }
                }
            }
            body(totals)
        }
    }

    /// Mean and `M2 = Σ (p[k] − mean)²` of one plane in one pass, from sums shifted by the
    /// plane's first element `K`: `S1 = Σ (p − K)`, `S2 = Σ (p − K)²`, `M2 = S2 − S1²/n`.
    ///
    /// The shift makes the one-pass formula safe: its cancellation is relative to
    /// `(mean − K)²` rather than `mean²` (Chan, Golub & LeVeque, "Algorithms for computing the
    /// sample variance", 1983), so a channel with mean 1e3 and standard deviation 0.1 keeps
    /// float-level accuracy. `S1`, `S2` use `SIMD8` float lanes; the combination is in double.
    @inline(__always)
    static func planeMoments(_ p: UnsafePointer<Float>, _ n: Int) -> (mean: Double, m2: Double) {
        let k = p[0], k8 = SIMD8<Float>(repeating: k)
        var a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= n {
            let d = load8(p + i) - k8, e = load8(p + (i &+ 8)) - k8
            a1 += d
            a2 += d * d
            b1 += e
            b2 += e * e
            i &+= 16
        }
        if i &+ 8 <= n {
            let d = load8(p + i) - k8
            a1 += d
            a2 += d * d
            i &+= 8
        }
        var s1 = (a1 + b1).sum(), s2 = (a2 + b2).sum()
        while i < n { let d = p[i] - k; s1 += d; s2 += d * d; i &+= 1 }
        let count = Double(n), t1 = Double(s1)
        return (Double(k) + t1 / count, Swift.max(0, Double(s2) - t1 * t1 / count))
    }

    /// Per-channel batch statistics in one pass over `x`, then per channel: writes `mean`, the
    /// biased `variance`, `invstd = 1/√(variance + ε)` and the output scale `γ·invstd` to `scale`.
    /// Plane moments from ``planeMoments(_:_:)`` are merged sample by sample with Chan et al.'s
    /// pairwise update
    ///
    ///     δ = mean_p − mean,  mean += δ·n_p/(n + n_p),  M2 += M2_p + δ²·n·n_p/(n + n_p).
    @inline(__always)
    static func statistics(_ l: Layout, _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, epsilon: Float,
                           mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                           invstd: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>) {
        let planeCount = Double(l.inner), count = Double(l.count)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(1, 2 &* l.channels)) { buffer in
            let merged = buffer.baseAddress!  // per channel: mean and M2 of the samples so far
            merged.initialize(repeating: 0, count: 2 &* l.channels)
            combinePlanes(l, width: 2, plane: { n, c, moments in
                (moments[0], moments[1]) = planeMoments(x + l.plane(n, c), l.inner)
            }, channel: { c, images, moments in
                var mu = merged[2 &* c], m2 = merged[2 &* c &+ 1]
                for n in images {
                    let seen = Double(n) * planeCount, total = seen + planeCount
                    let w1 = planeCount / total, w2 = seen * w1
                    let p = moments + (n &- images.lowerBound) &* 2, delta = p[0] - mu
                    mu += delta * w1
                    m2 += p[1] + delta * delta * w2
                }
                merged[2 &* c] = mu
                merged[2 &* c &+ 1] = m2
                guard images.upperBound == l.batch else { return }
                let v = Float(m2 / count), inv = 1 / (v + epsilon).squareRoot()
                mean[c] = Float(mu)
                variance[c] = v
                invstd[c] = inv
                scale[c] = inv * (gamma?[c] ?? 1)
            })
        }
    }

    /// Batch statistics, then `y = (x − μ)·invstd·γ + β`. Writes `mean`, the biased batch
    /// `variance` and `invstd` per channel. Two passes over `x` (statistics, output).
    static func trainingForward(_ l: Layout, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                epsilon: Float, y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                variance: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: l.channels) { buffer in
            let scale = buffer.baseAddress!
            statistics(l, x, gamma: gamma, epsilon: epsilon, mean: mean, variance: variance, invstd: invstd, scale: scale)
            forEachPlane(l) { n, c in
                let offset = l.plane(n, c)
                affinePlane(x + offset, y + offset, l.inner, mean[c], scale[c], beta?[c] ?? 0)
            }
        }
    }

    /// `dst = (src − m)·s + b` over one plane. Training passes `m = μ`, `b = β`: centring
    /// first keeps `y` accurate when `|μ| ≫ σ` (the folded `x·s + (β − μ·s)` cancels).
    /// Evaluation passes `m = +0`, whose subtraction changes nothing and is skipped.
    @inline(__always)
    static func affinePlane(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int, _ m: Float, _ s: Float,
                            _ b: Float) {
        let m8 = SIMD8<Float>(repeating: m), s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        var i = 0
        if m == 0 && m.sign == .plus {
            while i &+ 8 <= n {
                store8(load8(src + i) * s8 + b8, dst + i)
                i &+= 8
            }
        } else {
            while i &+ 8 <= n {
                store8((load8(src + i) - m8) * s8 + b8, dst + i)
                i &+= 8
            }
        }
        while i < n { dst[i] = (src[i] - m) * s + b; i &+= 1 }
    }

    /// `dst = (src·s + b) + r` over one plane: ``affinePlane(_:_:_:_:_:_:)`` with `m = +0`
    /// and a residual `r` added in the same pass (the same two roundings as adding it after).
    @inline(__always)
    static func affinePlaneAdding(_ src: UnsafePointer<Float>, _ r: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                  _ n: Int, _ s: Float, _ b: Float) {
        let s8 = SIMD8<Float>(repeating: s), b8 = SIMD8<Float>(repeating: b)
        var i = 0
        while i &+ 8 <= n {
            store8((load8(src + i) * s8 + b8) + load8(r + i), dst + i)
            i &+= 8
        }
        while i < n { dst[i] = (src[i] * s + b) + r[i]; i &+= 1 }
    }

    /// `Σ dy` and `Σ dy·(x − μ)` of one plane.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> (Float, Float) {
        let m = SIMD8<Float>(repeating: mu)
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        var i = 0
        while i &+ 8 <= n {
            let g = load8(dy + i)
            s0 += g
            s1 += g * (load8(x + i) - m)
            i &+= 8
        }
        var a = s0.sum(), b = s1.sum()
        while i < n { a += dy[i]; b += dy[i] * (x[i] - mu); i &+= 1 }
        return (a, b)
    }

    /// `dst = k·g − (x − μ)·q + r` over one plane: the input gradient once the sums are known.
    @inline(__always)
    static func inputGradientPlane(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                                   _ mu: Float, _ k: Float, _ q: Float, _ r: Float) {
        let m8 = SIMD8<Float>(repeating: mu), k8 = SIMD8<Float>(repeating: k)
        let q8 = SIMD8<Float>(repeating: q), r8 = SIMD8<Float>(repeating: r)
        var i = 0
        while i &+ 8 <= n {
            store8(k8 * load8(g + i) - (load8(x + i) - m8) * q8 + r8, dst + i)
            i &+= 8
        }
        while i < n { dst[i] = k * g[i] - (x[i] - mu) * q + r; i &+= 1 }
    }

    /// Gradients of the training-mode transform (statistics of the batch):
    ///
    ///     dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invstd·(dy − dβ/M − x̂·dγ/M)
    ///
    /// in two passes: the per-channel sums, then `dx` (written when non-nil);
    /// `dGamma`/`dBeta` receive the sums when non-nil.
    static func trainingBackward(_ l: Layout, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 invstd: UnsafePointer<Float>, gamma: UnsafePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                                 dGamma: UnsafeMutablePointer<Float>?, dBeta: UnsafeMutablePointer<Float>?) {
        withChannelSums(l, width: 2, plane: { n, c, sums in
            let offset = l.plane(n, c)
            let (a, b) = gradientSums(dy + offset, x + offset, l.inner, mean[c])
            sums[0] = Double(a)
            sums[1] = Double(b)
        }) { sums in
            for c in 0..<l.channels {
                dBeta?[c] = Float(sums[2 &* c])
                dGamma?[c] = Float(sums[2 &* c &+ 1]) * invstd[c]
            }
            guard let dx else { return }
            let m = Float(l.count)
            forEachPlane(l) { n, c in
                let offset = l.plane(n, c), inv = invstd[c]
                let k = (gamma?[c] ?? 1) * inv
                // dx = k·dy − (x − μ)·k·(dγ/M)·invstd − k·dβ/M
                let q = k * Float(sums[2 &* c &+ 1]) * inv * inv / m, r = -k * Float(sums[2 &* c]) / m
                inputGradientPlane(dy + offset, x + offset, dx + offset, l.inner, mean[c], k, q, r)
            }
        }
    }

    /// `y = x·scale[c] + shift[c]` (evaluation mode with folded statistics).
    static func affine(_ l: Layout, x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                       y: UnsafeMutablePointer<Float>) {
        parallelFor(l.batch &* l.channels, grain: Swift.max(1, 16_384 / Swift.max(l.inner, 1))) { range in
            for p in range {
                let c = p % l.channels
                affinePlane(x + p &* l.inner, y + p &* l.inner, l.inner, 0, scale[c], shift[c])
            }
        }
    }
}
