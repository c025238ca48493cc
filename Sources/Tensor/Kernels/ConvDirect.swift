/// Direct convolution for grouped convolutions with few channels per group (depthwise above
/// all): every output plane is a sum of single-plane correlations, computed on a zero-padded
/// copy of the input plane so that the inner loops have no bounds tests.
///
/// Stride-1 forward rows run eight outputs at a time in `SIMD8` accumulators over all kernel
/// taps; the input gradient scatters kernel-weighted output-gradient rows (axpy), the weight
/// gradient is a dot product per tap. Work is split over planes: output planes for the
/// forward pass, input planes for the input gradient, output channels (summing the batch in
/// order) for the weight gradient — no two threads write the same element.
enum ConvDirect {
    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// The input plane `src` with its zero border (or `src` itself without padding).
    @inline(__always)
    static func padded(_ g: ConvGeometry, _ src: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        guard g.padHeight > 0 || g.padWidth > 0 else { return src }
        let wp = g.paddedWidth, ph = g.padHeight, pw = g.padWidth
        scratch.update(repeating: 0, count: ph &* wp)
        (scratch + (ph &+ g.height) &* wp).update(repeating: 0, count: ph &* wp)
        for y in 0..<g.height {
            let row = scratch + (y &+ ph) &* wp
            row.update(repeating: 0, count: pw)
            (row + pw).update(from: src + y &* g.width, count: g.width)
            (row + (pw &+ g.width)).update(repeating: 0, count: pw)
        }
        return UnsafePointer(scratch)
    }

    /// `y += correlate(xp, k)` for one padded input plane and one kernel.
    @inline(__always)
    static func forwardPlane(_ g: ConvGeometry, xp: UnsafePointer<Float>, k: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let wp = g.paddedWidth, kh = g.kernelHeight, kw = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dw = g.dilationWidth
        let wo = g.outWidth
        for i in 0..<g.outHeight {
            let yrow = y + i &* wo
            let base = xp + i &* sh &* wp
            var j = 0
            if sw == 1 {
                while j &+ 8 <= wo {
                    var acc = load8(yrow + j)
                    for u in 0..<kh {
                        let r = base + (u &* dh &* wp &+ j)
                        for v in 0..<kw { acc += SIMD8(repeating: k[u &* kw &+ v]) * load8(r + v &* dw) }
                    }
                    store8(acc, yrow + j)
                    j &+= 8
                }
            }
            while j < wo {
                var s = yrow[j]
                for u in 0..<kh {
                    let r = base + (u &* dh &* wp &+ j &* sw)
                    for v in 0..<kw { s += k[u &* kw &+ v] * r[v &* dw] }
                }
                yrow[j] = s
                j &+= 1
            }
        }
    }

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let planes = g.batch &* g.outChannels
        let scratchCount = g.paddedHeight &* g.paddedWidth
        parallelFor(planes) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for plane in range {
                let n = plane / g.outChannels, o = plane % g.outChannels
                let group = o / g.outPerGroup
                let yp = y + plane &* g.outPlane
                yp.update(repeating: bias?[o] ?? 0, count: g.outPlane)
                for ci in 0..<g.inPerGroup {
                    let c = group &* g.inPerGroup &+ ci
                    let xp = padded(g, x + (n &* g.inChannels &+ c) &* g.inPlane, scratch: scratch)
                    forwardPlane(g, xp: xp, k: w + (o &* g.inPerGroup &+ ci) &* g.kernelArea, y: yp)
                }
            }
        }
    }

    /// Writes every element of `dx`.
    static func backwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let planes = g.batch &* g.inChannels
        let wp = g.paddedWidth, kh = g.kernelHeight, kw = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dwid = g.dilationWidth
        let wo = g.outWidth
        let hasPadding = g.padHeight > 0 || g.padWidth > 0
        let scratchCount = hasPadding ? g.paddedHeight &* g.paddedWidth : 1
        parallelFor(planes) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for plane in range {
                let n = plane / g.inChannels, c = plane % g.inChannels
                let group = c / g.inPerGroup, ci = c % g.inPerGroup
                let target = dx + plane &* g.inPlane
                let dxp = hasPadding ? scratch : target
                dxp.update(repeating: 0, count: hasPadding ? scratchCount : g.inPlane)
                for oo in 0..<g.outPerGroup {
                    let o = group &* g.outPerGroup &+ oo
                    let k = w + (o &* g.inPerGroup &+ ci) &* g.kernelArea
                    let dyp = dy + (n &* g.outChannels &+ o) &* g.outPlane
                    for i in 0..<g.outHeight {
                        let dyrow = dyp + i &* wo
                        let base = dxp + i &* sh &* wp
                        for u in 0..<kh {
                            let r = base + u &* dh &* wp
                            for v in 0..<kw {
                                let weight = k[u &* kw &+ v]
                                let d = r + v &* dwid
                                if sw == 1 {
                                    for j in 0..<wo { d[j] += weight * dyrow[j] }
                                } else {
                                    for j in 0..<wo { d[j &* sw] += weight * dyrow[j] }
                                }
                            }
                        }
                    }
                }
                if hasPadding {
                    for y in 0..<g.height {
                        target.advanced(by: y &* g.width)
                            .update(from: scratch + ((y &+ g.padHeight) &* wp &+ g.padWidth), count: g.width)
                    }
                }
            }
        }
    }

    /// Writes every element of `dw`.
    static func backwardWeight(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let wp = g.paddedWidth, kh = g.kernelHeight, kw = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dwid = g.dilationWidth
        let wo = g.outWidth
        let scratchCount = g.paddedHeight &* g.paddedWidth
        parallelFor(g.outChannels) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for o in range {
                let group = o / g.outPerGroup
                for ci in 0..<g.inPerGroup {
                    let c = group &* g.inPerGroup &+ ci
                    let k = dw + (o &* g.inPerGroup &+ ci) &* g.kernelArea
                    k.update(repeating: 0, count: g.kernelArea)
                    for n in 0..<g.batch {
                        let xp = padded(g, x + (n &* g.inChannels &+ c) &* g.inPlane, scratch: scratch)
                        let dyp = dy + (n &* g.outChannels &+ o) &* g.outPlane
                        for u in 0..<kh {
                            for v in 0..<kw {
                                var s: Float = 0
                                for i in 0..<g.outHeight {
                                    let dyrow = dyp + i &* wo
                                    let offset: Int = (i &* sh &+ u &* dh) &* wp &+ v &* dwid
                                    let r = xp + offset
                                    if sw == 1 {
                                        s += Reduce.dot(dyrow, r, wo)
                                    } else {
                                        for j in 0..<wo { s += dyrow[j] * r[j &* sw] }
                                    }
                                }
                                k[u &* kw &+ v] += s
                            }
                        }
                    }
                }
            }
        }
    }
}
