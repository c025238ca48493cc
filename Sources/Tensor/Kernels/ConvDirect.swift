/// Direct convolution for grouped convolutions with few channels per group (depthwise above
/// all): every output plane is a sum of single-plane correlations.
///
/// Each input plane is first rewritten as `s` zero-padded *phase planes* (`s` = column
/// stride): phase `p` holds the padded columns `p, p + s, p + 2s, …`, so that kernel column `v`
/// reads phase `(v·d) mod s` at offset `⌊v·d/s⌋ + j` — contiguous in the output column `j`
/// for every stride. Phase rows are wide enough for output rows rounded up to 8, so all three
/// loops run eight output columns at a time in `SIMD8` registers, taps innermost (the forward
/// pass four output rows at a time, whose independent sums hide the adds' latency):
///
///     forward          y[i, j…j+7]      += k[u, v] · P[(i·s + u·d), j + q(v) …]
///     input gradient   Pdx[…, j + q(v) …] += k[u, v] · dy[i, j…j+7]     (then un-phased into dx)
///     weight gradient  acc[u, v]        += dy[i, j…j+7] · P[…, j + q(v) …]
///
/// Work is split over planes: output planes for the forward pass, input planes for the input
/// gradient, output channels (summing the batch in order) for the weight gradient — no two
/// threads write the same element.
enum ConvDirect {
    /// Sizes of the phase planes and of the scratch buffers of one task.
    struct Plan {
        let g: ConvGeometry
        /// Output width rounded up to a multiple of 8.
        let blockedWidth: Int
        /// Columns per phase row.
        let phaseWidth: Int
        /// Rows per phase plane (the padded height).
        let rows: Int

        /// Per phase `p`: the phase columns `lo..<hi` that hold input values, the first of them
        /// holding input column `source`.
        let phaseColumns: [(lo: Int, hi: Int, source: Int)]

        init(_ g: ConvGeometry) {
            self.g = g
            blockedWidth = (g.outWidth &+ 7) & ~7
            let phaseWidth = blockedWidth &+ (g.kernelWidth &- 1) &* g.dilationWidth / g.strideWidth
            self.phaseWidth = phaseWidth
            rows = g.paddedHeight
            let s = g.strideWidth, w = g.width, pw = g.padWidth
            phaseColumns = (0..<s).map { p in
                // Phase column c holds input column x = c·s + p − pw.
                let shift = p &- pw
                let lo = Swift.min(shift >= 0 ? 0 : (-shift &+ s &- 1) / s, phaseWidth)
                let last = w &- 1 &- shift
                let hi = Swift.max(lo, Swift.min(last < 0 ? 0 : last / s &+ 1, phaseWidth))
                return (lo, hi, lo &* s &+ shift)
            }
        }

        /// Floats of all phase planes of one input plane.
        var phaseCount: Int { g.strideWidth &* rows &* phaseWidth }
        /// Floats of one output-gradient plane padded to `blockedWidth`.
        var blockedPlane: Int { g.outHeight &* blockedWidth }

        /// Offset of output row `i`'s first input row inside a phase plane.
        @inline(__always)
        func rowOffset(_ i: Int) -> Int { i &* g.strideHeight &* phaseWidth }

        /// Writes the offset of every kernel tap `(u, v)` relative to ``rowOffset(_:)``: row
        /// `u·d`, phase `(v·d) mod s`, column `⌊v·d/s⌋`.
        func tapOffsets(into offsets: UnsafeMutablePointer<Int>) {
            for u in 0..<g.kernelHeight {
                for v in 0..<g.kernelWidth {
                    let shift = v &* g.dilationWidth
                    offsets[u &* g.kernelWidth &+ v] = u &* g.dilationHeight &* phaseWidth
                        &+ (shift % g.strideWidth) &* rows &* phaseWidth &+ shift / g.strideWidth
                }
            }
        }

        /// Scratch of one task: phase planes, a blocked output-gradient plane, tap offsets and
        /// broadcast kernel values (or accumulators).
        struct Scratch {
            let phases: UnsafeMutablePointer<Float>
            let blocked: UnsafeMutablePointer<Float>
            let offsets: UnsafeMutablePointer<Int>
            let taps: UnsafeMutablePointer<SIMD8<Float>>

            init(_ plan: Plan) {
                phases = .allocate(capacity: plan.phaseCount)
                // ``Plan/split(_:into:)`` writes only the elements that come from the input: the
                // padding around them is the same for every plane.
                phases.initialize(repeating: 0, count: plan.phaseCount)
                blocked = .allocate(capacity: plan.blockedPlane)
                offsets = .allocate(capacity: plan.g.kernelArea)
                taps = .allocate(capacity: plan.g.kernelArea)
                plan.tapOffsets(into: offsets)
            }

            func deallocate() {
                phases.deallocate(); blocked.deallocate(); offsets.deallocate(); taps.deallocate()
            }

            /// `taps[t] = (k[t], k[t], …)`.
            @inline(__always)
            func broadcast(_ k: UnsafePointer<Float>, _ count: Int) {
                for t in 0..<count { taps[t] = SIMD8(repeating: k[t]) }
            }
        }

        /// Writes the input plane `src` into the phase planes at `phases`: only the elements that
        /// hold input values, the zero padding around them having been written once (by
        /// ``Scratch/init(_:)``). At stride 2 both phases come from one pass over each row (two
        /// passes each reading the whole row took 42 % of MobileFaceNet-32's 16→8 layer).
        func split(_ src: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>) {
            let s = g.strideWidth, w = g.width, ph = g.padHeight
            phaseColumns.withUnsafeBufferPointer { columns in
                // Stride 2 with one phase from input column 0 and the other from column 1 (every
                // padding): both phases from one pass over each row.
                if s == 2, let even = (0..<2).first(where: { columns[$0].source == 0 }), columns[1 &- even].source == 1 {
                    let odd = 1 &- even
                    let evenCount = columns[even].hi &- columns[even].lo, oddCount = columns[odd].hi &- columns[odd].lo
                    var evenRow = phases + ((even &* rows &+ ph) &* phaseWidth &+ columns[even].lo)
                    var oddRow = phases + ((odd &* rows &+ ph) &* phaseWidth &+ columns[odd].lo)
                    var row = src
                    for _ in 0..<g.height {
                        var i = 0
                        while i &+ 8 <= evenCount && i &+ 8 <= oddCount && 2 &* i &+ 16 <= w {
                            let a = load8(row + 2 &* i), b = load8(row + (2 &* i &+ 8))
                            store8(SIMD8(lowHalf: a.evenHalf, highHalf: b.evenHalf), evenRow + i)
                            store8(SIMD8(lowHalf: a.oddHalf, highHalf: b.oddHalf), oddRow + i)
                            i &+= 8
                        }
                        var j = i
                        while j < evenCount { evenRow[j] = row[2 &* j]; j &+= 1 }
                        j = i
                        while j < oddCount { oddRow[j] = row[2 &* j &+ 1]; j &+= 1 }
                        evenRow += phaseWidth
                        oddRow += phaseWidth
                        row += w
                    }
                    return
                }
                for p in 0..<s {
                    let (lo, hi, first) = columns[p]
                    let count = hi &- lo
                    var dst = phases + ((p &* rows &+ ph) &* phaseWidth &+ lo), row = src + first
                    if s == 1 {
                        for _ in 0..<g.height {
                            copyFloats(row, to: dst, count: count)
                            dst += phaseWidth
                            row += w
                        }
                    } else if s == 2 {
                        // Input columns first, first + 2, …: an odd first is read as the odd
                        // floats from the column before it, so that the vector loads end
                        // within the row.
                        let phase = first & 1, readable = w &- first &+ phase
                        row -= phase
                        for _ in 0..<g.height {
                            copyAlternateFloats(row, phase: phase, to: dst, count: count, readable: readable)
                            dst += phaseWidth
                            row += w
                        }
                    } else {
                        for _ in 0..<g.height {
                            var c = 0
                            while c < count { dst[c] = row[c &* s]; c &+= 1 }
                            dst += phaseWidth
                            row += w
                        }
                    }
                }
            }
        }

        /// Copies an output-gradient plane into `blocked`, rows padded with zeros to `blockedWidth`.
        func block(_ src: UnsafePointer<Float>, into blocked: UnsafeMutablePointer<Float>) {
            let wo = g.outWidth
            for i in 0..<g.outHeight {
                let d = blocked + i &* blockedWidth
                d.update(from: src + i &* wo, count: wo)
                if blockedWidth > wo { (d + wo).update(repeating: 0, count: blockedWidth &- wo) }
            }
        }
    }

    /// `epilogue` maps each output plane once it is complete. Depthwise convolutions with small
    /// outputs run ``ConvInterleaved``'s forward pass instead (the same sums).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue: ChannelEpilogue? = nil) {
        if ConvInterleaved.supports(g) { return ConvInterleaved.forward(g, x: x, w: w, bias: bias, y: y, epilogue: epilogue) }
        let plan = Plan(g)
        let area = g.kernelArea, wo = g.outWidth
        parallelFor(g.batch &* g.outChannels) { range in
            let scratch = Plan.Scratch(plan)
            defer { scratch.deallocate() }
            let phases = UnsafePointer(scratch.phases), offsets = scratch.offsets, taps = scratch.taps
            for plane in range {
                let n = plane / g.outChannels, o = plane % g.outChannels
                let group = o / g.outPerGroup
                let yp = y + plane &* g.outPlane, initial = bias?[o] ?? 0
                for ci in 0..<g.inPerGroup {
                    let c = group &* g.inPerGroup &+ ci
                    plan.split(x + (n &* g.inChannels &+ c) &* g.inPlane, into: scratch.phases)
                    scratch.broadcast(w + (o &* g.inPerGroup &+ ci) &* area, area)
                    // The first input channel's sums write y (with the bias), the others add to it.
                    let first = ci == 0
                    @inline(__always) func put(_ acc: SIMD8<Float>, _ yrow: UnsafeMutablePointer<Float>, _ j: Int) {
                        if j &+ 8 <= wo {
                            store8((first ? SIMD8(repeating: initial) : load8(yrow + j)) + acc, yrow + j)
                        } else if j &+ 4 == wo {
                            store4((first ? SIMD4(repeating: initial) : load4(yrow + j)) + acc.lowHalf, yrow + j)
                        } else {
                            for t in 0..<(wo &- j) { yrow[j &+ t] = (first ? initial : yrow[j &+ t]) + acc[t] }
                        }
                    }
                    // Four output rows at a time (then the last few one by one): each tap's sum is a
                    // chain of dependent adds, and four rows' chains run side by side (each tap
                    // loaded once for all four).
                    let rowStep = plan.rowOffset(1)
                    var i = 0
                    while i &+ 4 <= g.outHeight {
                        let yrow = yp + i &* wo, base = phases + plan.rowOffset(i)
                        var j = 0
                        while j < wo {
                            let (acc0, acc1, acc2, acc3) = fourTapSums(taps, offsets, count: area, at: base + j, step: rowStep)
                            put(acc0, yrow, j)
                            put(acc1, yrow + wo, j)
                            put(acc2, yrow + 2 &* wo, j)
                            put(acc3, yrow + 3 &* wo, j)
                            j &+= 8
                        }
                        i &+= 4
                    }
                    while i < g.outHeight {
                        let yrow = yp + i &* wo, base = phases + plan.rowOffset(i)
                        var j = 0
                        while j < wo {
                            var acc = SIMD8<Float>()
                            let row = base + j
                            for t in 0..<area { acc += taps[t] * load8(row + offsets[t]) }
                            put(acc, yrow, j)
                            j &+= 8
                        }
                        i &+= 1
                    }
                }
                epilogue?.apply(yp, channel: o, count: g.outPlane)
            }
        }
    }

    /// `Σ_t taps[t] · P[offsets[t] + r·step]` at `at` for r = 0…3 (four output rows here, four
    /// positions in ``ConvInterleaved``): four independent chains of adds, each tap loaded once
    /// for all four.
    @inline(__always)
    static func fourTapSums<V: SIMD>(_ taps: UnsafePointer<V>, _ offsets: UnsafePointer<Int>, count: Int, at: UnsafePointer<Float>,
                                     step: Int) -> (V, V, V, V) where V.Scalar == Float {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var acc0 = V(), acc1 = V(), acc2 = V(), acc3 = V()
        for t in 0..<count {
            let k = taps[t], p = at + offsets[t]
            acc0 += k * load(p)
            acc1 += k * load(p + step)
            acc2 += k * load(p + 2 &* step)
            acc3 += k * load(p + 3 &* step)
        }
        return (acc0, acc1, acc2, acc3)
    }

    /// The input gradient of a stride-1 convolution as a forward correlation: `dx` is `dy`,
    /// padded by `(k − 1)·d − p`, correlated with the flipped kernels (input and output channels
    /// of each group exchanged; ``ConvGeometry/inputGradientCorrelation``), by this kernel's
    /// forward pass. Register-blocked like the forward pass, so it beats
    /// ``backwardInput(_:dy:w:dx:)``; returns `false` (doing nothing) for strides above 1 or
    /// padding beyond `(k − 1)·d`.
    static func backwardInputByCorrelation(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                           dx: UnsafeMutablePointer<Float>) -> Bool {
        guard let correlation = g.inputGradientCorrelation else { return false }
        let flipped = g.flippedKernels(w)
        defer { withExtendedLifetime(flipped) {} }
        forward(correlation, x: dy, w: flipped.base, bias: nil, y: dx)
        return true
    }

    /// Writes every element of `dx`.
    static func backwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let plan = Plan(g)
        let area = g.kernelArea, bw = plan.blockedWidth, s = g.strideWidth
        parallelFor(g.batch &* g.inChannels) { range in
            let scratch = Plan.Scratch(plan)
            defer { scratch.deallocate() }
            let phases = scratch.phases, blocked = UnsafePointer(scratch.blocked)
            let offsets = scratch.offsets, taps = scratch.taps
            for plane in range {
                let n = plane / g.inChannels, c = plane % g.inChannels
                let group = c / g.inPerGroup, ci = c % g.inPerGroup
                phases.update(repeating: 0, count: plan.phaseCount)
                for oo in 0..<g.outPerGroup {
                    let o = group &* g.outPerGroup &+ oo
                    scratch.broadcast(w + (o &* g.inPerGroup &+ ci) &* area, area)
                    plan.block(dy + (n &* g.outChannels &+ o) &* g.outPlane, into: scratch.blocked)
                    for i in 0..<g.outHeight {
                        let dyrow = blocked + i &* bw
                        let base = phases + plan.rowOffset(i)
                        for t in 0..<area {
                            let d = base + offsets[t], weight = taps[t]
                            var j = 0
                            while j < bw {
                                store8(load8(d + j) + weight * load8(dyrow + j), d + j)
                                j &+= 8
                            }
                        }
                    }
                }
                // Un-phase: dx[y, x] = P[(x + pw) mod s][y + ph, ⌊(x + pw)/s⌋]; columns past the
                // last one any output reads get no gradient.
                let target = dx + plane &* g.inPlane
                for y in 0..<g.height {
                    let dst = target + y &* g.width
                    let r = y &+ g.padHeight
                    for p in 0..<s {
                        let src = phases + (p &* plan.rows &+ r) &* plan.phaseWidth
                        var x = ((p &- g.padWidth) % s &+ s) % s, q = (x &+ g.padWidth) / s
                        while x < g.width {
                            dst[x] = q < plan.phaseWidth ? src[q] : 0
                            x &+= s
                            q &+= 1
                        }
                    }
                }
            }
        }
    }

    /// Writes every element of `dw`.
    static func backwardWeight(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>) {
        let plan = Plan(g)
        let area = g.kernelArea, bw = plan.blockedWidth
        parallelFor(g.outChannels) { range in
            let scratch = Plan.Scratch(plan)
            defer { scratch.deallocate() }
            let phases = UnsafePointer(scratch.phases), blocked = UnsafePointer(scratch.blocked)
            let offsets = scratch.offsets, acc = scratch.taps
            for o in range {
                let group = o / g.outPerGroup
                for ci in 0..<g.inPerGroup {
                    let c = group &* g.inPerGroup &+ ci
                    acc.update(repeating: SIMD8<Float>(), count: area)
                    for n in 0..<g.batch {
                        plan.split(x + (n &* g.inChannels &+ c) &* g.inPlane, into: scratch.phases)
                        plan.block(dy + (n &* g.outChannels &+ o) &* g.outPlane, into: scratch.blocked)
                        for i in 0..<g.outHeight {
                            let base = phases + plan.rowOffset(i)
                            var j = 0
                            while j < bw {
                                let d = load8(blocked + (i &* bw &+ j))
                                let row = base + j
                                for t in 0..<area { acc[t] += d * load8(row + offsets[t]) }
                                j &+= 8
                            }
                        }
                    }
                    let k = dw + (o &* g.inPerGroup &+ ci) &* area
                    for t in 0..<area { k[t] = acc[t].sum() }
                }
            }
        }
    }
}
