/// Depthwise convolutions with small outputs, four channels at a time in the lanes of a `SIMD4`.
///
/// ``ConvDirect`` vectorises along an output row, which for outputs of 4×4 and smaller leaves its
/// per-plane work (splitting the plane, broadcasting the taps, 8-wide rows holding 4-wide
/// outputs) larger than the arithmetic. Here the input planes of channels `c…c+3` are first
/// interleaved into one zero-padded buffer, `P[r][q] = (x_c, x_{c+1}, x_{c+2}, x_{c+3})[r − pH][q − pW]`,
/// and every output position is one vector sum over the taps, each lane a channel:
///
///     Y[i][j] = b + Σ_{u,v} k[u, v] · P[i·sH + u·dH][j·sW + v·dW]     (k, b: the 4 channels' taps and biases)
///
/// then written back to the four output planes. The taps are summed in the same order as
/// ``ConvDirect`` sums them, so the two kernels give the same results.
enum ConvInterleaved {
    /// Channels per vector.
    static let lanes = 4
    /// Output planes up to this many positions (4×4) run here: MobileFaceNet-32's 512-channel
    /// stride-2 layer (8×8 → 4×4) took 0.50–0.54 instead of 1.06–1.20 ms, its 4×4 layers 0.14
    /// instead of 0.37–0.39 ms; on 8×8 outputs the two kernels were level, on 16×16 this one was
    /// slower (`crossres bench --filter layers.mobilefacenet32.dw`).
    static let maximumPlane = 16

    /// One input and one output channel per group, channels a multiple of ``lanes``, and
    /// output planes of at most ``maximumPlane`` positions (a case of
    /// ``ConvGeometry/usesDirectKernel``: ``ConvDirect/forward(_:x:w:bias:y:epilogue:)`` hands it here).
    static func supports(_ g: ConvGeometry) -> Bool {
        g.groups == g.inChannels && g.groups == g.outChannels && g.inChannels % lanes == 0 && g.outPlane <= maximumPlane
    }

    /// `epilogue` maps each output plane once it is complete.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, epilogue: ChannelEpilogue? = nil) {
        let blocks = g.inChannels / lanes, area = g.kernelArea
        let rowFloats = g.paddedWidth &* lanes, paddedFloats = g.paddedHeight &* rowFloats
        let wo = g.outWidth, ho = g.outHeight
        parallelFor(g.batch &* blocks) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: paddedFloats &+ g.outPlane &* lanes) { scratch in
                let padded = scratch.baseAddress!, out = padded + paddedFloats
                // Only the interior is rewritten for each block: the border stays zero.
                padded.initialize(repeating: 0, count: paddedFloats)
                withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: area) { taps in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: area) { offsets in
                        for u in 0..<g.kernelHeight {
                            for v in 0..<g.kernelWidth {
                                offsets[u &* g.kernelWidth &+ v] = u &* g.dilationHeight &* rowFloats &+ v &* g.dilationWidth &* lanes
                            }
                        }
                        for item in range {
                            let n = item / blocks, c = (item % blocks) &* lanes
                            let planes = x + (n &* g.inChannels &+ c) &* g.inPlane
                            interleave(g, planes: planes, into: padded + (g.padHeight &* rowFloats &+ g.padWidth &* lanes))
                            for t in 0..<area {
                                taps[t] = SIMD4(w[c &* area &+ t], w[(c &+ 1) &* area &+ t], w[(c &+ 2) &* area &+ t],
                                                w[(c &+ 3) &* area &+ t])
                            }
                            let initial = bias.map { load4($0 + c) } ?? SIMD4<Float>()
                            let step = g.strideWidth &* lanes
                            for i in 0..<ho {
                                let row = padded + i &* g.strideHeight &* rowFloats, target = out + i &* wo &* lanes
                                var j = 0
                                // Four positions at a time (``ConvDirect/fourTapSums(_:_:count:at:step:)``).
                                while j &+ 4 <= wo {
                                    let (acc0, acc1, acc2, acc3) = ConvDirect.fourTapSums(taps.baseAddress!, offsets.baseAddress!, count: area,
                                                                                         at: row + j &* step, step: step)
                                    let o = target + j &* lanes
                                    store4(initial + acc0, o); store4(initial + acc1, o + 4)
                                    store4(initial + acc2, o + 8); store4(initial + acc3, o + 12)
                                    j &+= 4
                                }
                                while j < wo {
                                    let at = row + j &* step
                                    var acc = SIMD4<Float>()
                                    for t in 0..<area { acc += taps[t] * load4(at + offsets[t]) }
                                    store4(initial + acc, target + j &* lanes)
                                    j &+= 1
                                }
                            }
                            let outputs = y + (n &* g.outChannels &+ c) &* g.outPlane
                            deinterleave(out, count: g.outPlane, into: outputs, plane: g.outPlane)
                            if let epilogue {
                                for lane in 0..<lanes {
                                    epilogue.apply(outputs + lane &* g.outPlane, channel: c &+ lane, count: g.outPlane)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `(a, b, c, d)` as rows, returned as columns: `(a0 b0 c0 d0), (a1 b1 c1 d1), …`.
    @inline(__always)
    static func transposed(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>)
        -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let ab = interleaved(a, b), cd = interleaved(c, d)  // (a0 b0 a1 b1 a2 b2 a3 b3), (c0 d0 …)
        return (SIMD4(lowHalf: ab.lowHalf.lowHalf, highHalf: cd.lowHalf.lowHalf),
                SIMD4(lowHalf: ab.lowHalf.highHalf, highHalf: cd.lowHalf.highHalf),
                SIMD4(lowHalf: ab.highHalf.lowHalf, highHalf: cd.highHalf.lowHalf),
                SIMD4(lowHalf: ab.highHalf.highHalf, highHalf: cd.highHalf.highHalf))
    }

    /// Writes the ``lanes`` input planes at `planes` (one after the other) into the interior of
    /// the padded buffer, whose first interior element is at `interior`.
    @inline(__always)
    static func interleave(_ g: ConvGeometry, planes: UnsafePointer<Float>, into interior: UnsafeMutablePointer<Float>) {
        let width = g.width, plane = g.inPlane, rowFloats = g.paddedWidth &* lanes
        for r in 0..<g.height {
            let source = planes + r &* width, target = interior + r &* rowFloats
            var q = 0
            while q &+ 4 <= width {
                let s = source + q
                let (c0, c1, c2, c3) = transposed(load4(s), load4(s + plane), load4(s + 2 &* plane), load4(s + 3 &* plane))
                let t = target + q &* lanes
                store4(c0, t); store4(c1, t + 4); store4(c2, t + 8); store4(c3, t + 12)
                q &+= 4
            }
            while q < width {
                for lane in 0..<lanes { target[q &* lanes &+ lane] = source[lane &* plane &+ q] }
                q &+= 1
            }
        }
    }

    /// Writes `count` interleaved outputs at `out` to ``lanes`` planes at `planes`, `plane`
    /// floats apart.
    @inline(__always)
    static func deinterleave(_ out: UnsafePointer<Float>, count: Int, into planes: UnsafeMutablePointer<Float>, plane: Int) {
        var k = 0
        while k &+ 4 <= count {
            let s = out + k &* lanes
            let (c0, c1, c2, c3) = transposed(load4(s), load4(s + 4), load4(s + 8), load4(s + 12))
            store4(c0, planes + k); store4(c1, planes + (plane &+ k))
            store4(c2, planes + (2 &* plane &+ k)); store4(c3, planes + (3 &* plane &+ k))
            k &+= 4
        }
        while k < count {
            for lane in 0..<lanes { planes[lane &* plane &+ k] = out[k &* lanes &+ lane] }
            k &+= 1
        }
    }
}
