/// Strided convolutions as one GEMM per kernel tap, straight over the input's phase planes
/// (``ConvPolyphase``), with no column matrix.
///
/// Kernel tap `t = (u, v)` of a strided, undilated convolution reads, for output `(i, j)`,
/// the element `o_t + W_p·i + j` of every channel's phase planes (``ConvPolyphase/tapOffset(_:)``,
/// `W_p` the planes' width). Computed "wide", with `W_p` positions per output row of which the
/// last `W_p − W'` are dropped, every tap is a GEMM over a plain strided view of the phase
/// planes (leading dimension: one channel's planes), per image:
///
///     forward   Ŷ    = Σ_t W_t · P_t          W_t = w[:, :, u, v]   (O × C)
///     weight    dW_t += dŶ · P_tᵀ             dŶ: dY widened with zeros in the dropped columns
///     input     dP_t += W_tᵀ · dŶ             then the phase planes merged into dX
///
/// This saves the column matrix that im2col writes and the GEMM then packs again (one copy
/// per tap of every input value), for `(W_p − W')/W_p` more multiply-adds: it is used where
/// that is at most 1/16 (3×3 stride-2 outputs at least 15 wide; at 8 wide it gained nothing,
/// at 4 wide it ran twice as long) and the GEMMs are at least ``minimumChannels`` deep;
/// 1×1 strided kernels keep ``ConvGEMM`` (the split would write four phases to read one).
/// Where the core has small-matrix kernels (``BLAS/hasSmallMatrixKernels``) each GEMM is cut
/// into bands of output rows that they take.
/// The dropped columns of `dŶ` are zeros, and the weight gradient multiplies them by input
/// values (the next row's, or columns no tap reads): where such a value is infinite or NaN,
/// entries of `dW` the exact gradient leaves finite become NaN. (Any non-finite value a tap
/// does read makes the output, and so the loss, non-finite already.)
/// The forward pass runs over ``parallelFor(_:grain:_:)``'s pieces of the batch; the backward
/// pass over one chunk of images per thread, each with its partial `dW`, summed in chunk order
/// (deterministic for a fixed thread count), as in ``ConvGEMM``.
enum ConvPhaseTaps {
    /// Input channels below which the per-tap GEMMs are too shallow.
    static let minimumChannels = 16

    static func supports(_ g: ConvGeometry) -> Bool {
        guard ConvPolyphase.supports(g), g.groups == 1, g.kernelArea > 1, g.inChannels >= minimumChannels else { return false }
        let planeWidth = ConvPolyphase(g).planeWidth
        return (planeWidth &- g.outWidth) &* 16 <= planeWidth
    }

    /// Bands of output rows, one GEMM each: small enough for the small-matrix kernels where the
    /// core has them and a single output row is (all rows in one band otherwise).
    static func bands(_ g: ConvGeometry, wideWidth: Int) -> [Range<Int>] {
        let rowWork = g.outChannels &* g.inChannels &* wideWidth
        guard BLAS.hasSmallMatrixKernels, rowWork <= BLAS.smallProductWork else { return [0..<g.outHeight] }
        let most = BLAS.smallProductWork / rowWork, count = (g.outHeight &+ most &- 1) / most
        return (0..<count).map { (g.outHeight &* $0 / count)..<(g.outHeight &* ($0 &+ 1) / count) }
    }

    /// `w` (`[O, C, kH, kW]`) rearranged as `[kH·kW, O, C]`: one `O × C` matrix per tap.
    static func tapWeights(_ g: ConvGeometry, _ w: UnsafePointer<Float>) -> TensorStorage {
        let taps = g.kernelArea, o = g.outChannels, c = g.inChannels
        let weights = TensorStorage(count: taps &* o &* c)  // from the buffer pool
        for row in 0..<o {
            for column in 0..<c {
                let source = w + (row &* c &+ column) &* taps
                for t in 0..<taps { weights.base[(t &* o &+ row) &* c &+ column] = source[t] }
            }
        }
        return weights
    }

    /// What the passes over one geometry share.
    struct Plan {
        let polyphase: ConvPolyphase
        /// Positions per wide output row (the phase planes' width) and per wide output plane.
        let wideWidth: Int, wide: Int
        /// ``ConvPolyphase/tapOffset(_:)`` of every tap.
        let offsets: [Int]
        let bands: [Range<Int>]

        init(_ g: ConvGeometry) {
            polyphase = ConvPolyphase(g)
            wideWidth = polyphase.planeWidth
            wide = g.outHeight &* wideWidth
            offsets = (0..<g.kernelArea).map(polyphase.tapOffset)
            bands = ConvPhaseTaps.bands(g, wideWidth: wideWidth)
        }

        /// Floats of a buffer of phase planes: room for the reads (and the zero additions) of
        /// the dropped columns past the last channel's planes.
        var phaseFloats: Int { polyphase.floats &+ wideWidth }

        /// Phase planes from the buffer pool, zeroed.
        func zeroedPhases() -> TensorStorage {
            let phases = TensorStorage(count: phaseFloats)
            phases.base.update(repeating: 0, count: phaseFloats)
            return phases
        }

        /// Calls `body(tap, start, positions)` for every tap and band of rows: the band's first
        /// wide position and its number of wide positions.
        @inline(__always)
        func forEachGEMM(_ body: (Int, Int, Int) -> Void) {
            for t in offsets.indices {
                for band in bands { body(t, band.lowerBound &* wideWidth, band.count &* wideWidth) }
            }
        }
    }

    /// `epilogue` maps each image's output planes once they are complete (still in cache).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue: ChannelEpilogue? = nil) {
        let plan = Plan(g), polyphase = plan.polyphase, o = g.outChannels, c = g.inChannels
        let wideWidth = plan.wideWidth, wide = plan.wide
        let weights = tapWeights(g, w)
        defer { withExtendedLifetime(weights) {} }
        parallelFor(g.batch) { images in
            let phases = plan.zeroedPhases(), out = TensorStorage(count: o &* wide)  // from the buffer pool
            defer { withExtendedLifetime((phases, out)) {} }
            for n in images {
                polyphase.split(x + n &* c &* g.inPlane, into: phases.base)
                plan.forEachGEMM { t, start, positions in
                    BLAS.sgemm(transposeA: false, transposeB: false, m: o, n: positions, k: c,
                               a: weights.base + t &* o &* c, lda: c, b: phases.base + (plan.offsets[t] &+ start),
                               ldb: polyphase.channelFloats, c: out.base + start, ldc: wide, accumulate: t > 0)
                }
                let yn = y + n &* o &* g.outPlane
                for channel in 0..<o {
                    let dst = yn + channel &* g.outPlane, src = out.base + channel &* wide
                    for i in 0..<g.outHeight {
                        let row = dst + i &* g.outWidth, wideRow = src + i &* wideWidth
                        if let bias {
                            let value = bias[channel]
                            for j in 0..<g.outWidth { row[j] = wideRow[j] + value }
                        } else {
                            row.update(from: wideRow, count: g.outWidth)
                        }
                    }
                    epilogue?.apply(dst, channel: channel, count: g.outPlane)
                }
            }
        }
    }

    /// Writes every element of `dx` and `dw` that is non-nil.
    static func backward(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        guard dx != nil || dw != nil else { return }
        let plan = Plan(g), polyphase = plan.polyphase, o = g.outChannels, c = g.inChannels
        let wideWidth = plan.wideWidth, wide = plan.wide
        let chunks = ConvGEMM.chunkCount(g), weightCount = g.kernelArea &* o &* c
        // Per chunk, the weight gradient as one `O × C` matrix per tap.
        let partials = TensorStorage(count: dw == nil ? 0 : chunks &* weightCount)  // from the buffer pool
        let weights = dx == nil ? TensorStorage(count: 0) : tapWeights(g, w)
        defer { withExtendedLifetime((partials, weights)) {} }
        parallelFor(chunks) { range in
            for chunk in range {
                let images = ConvGEMM.images(chunk: chunk, of: chunks, batch: g.batch)
                let dwPart = partials.base + chunk &* weightCount
                // The widened dY: its dropped columns are zeroed here and never written again.
                let wideGradient = TensorStorage(count: o &* wide)
                wideGradient.base.update(repeating: 0, count: o &* wide)
                let phases = dw == nil ? TensorStorage(count: 0) : plan.zeroedPhases()
                let gradientPhases = TensorStorage(count: dx == nil ? 0 : plan.phaseFloats)
                defer { withExtendedLifetime((wideGradient, phases, gradientPhases)) {} }
                let dyWide = wideGradient.base
                for n in images {
                    let dyn = dy + n &* o &* g.outPlane
                    for channel in 0..<o {
                        for i in 0..<g.outHeight {
                            (dyWide + (channel &* wide &+ i &* wideWidth))
                                .update(from: dyn + (channel &* g.outPlane &+ i &* g.outWidth), count: g.outWidth)
                        }
                    }
                    if dw != nil {
                        polyphase.split(x + n &* c &* g.inPlane, into: phases.base)
                        plan.forEachGEMM { t, start, positions in
                            BLAS.sgemm(transposeA: false, transposeB: true, m: o, n: c, k: positions,
                                       a: dyWide + start, lda: wide, b: phases.base + (plan.offsets[t] &+ start),
                                       ldb: polyphase.channelFloats, c: dwPart + t &* o &* c, ldc: c,
                                       accumulate: n != images.lowerBound || start != 0)
                        }
                    }
                    if let dx {
                        let dPhases = gradientPhases.base
                        dPhases.update(repeating: 0, count: plan.phaseFloats)
                        plan.forEachGEMM { t, start, positions in
                            BLAS.sgemm(transposeA: true, transposeB: false, m: c, n: positions, k: o,
                                       a: weights.base + t &* o &* c, lda: c, b: dyWide + start, ldb: wide,
                                       c: dPhases + (plan.offsets[t] &+ start), ldc: polyphase.channelFloats, accumulate: true)
                        }
                        polyphase.merge(dPhases, into: dx + n &* c &* g.inPlane)
                    }
                }
            }
        }
        if let dw { sumPartials(partials.base, chunks: chunks, g, into: dw) }
    }

    /// `dw[o, c, t] = Σ_chunk partials[chunk][t, o, c]`, summed in chunk order and in parallel
    /// over the output channels.
    static func sumPartials(_ partials: UnsafePointer<Float>, chunks: Int, _ g: ConvGeometry, into dw: UnsafeMutablePointer<Float>) {
        let taps = g.kernelArea, o = g.outChannels, c = g.inChannels, weightCount = taps &* o &* c
        parallelFor(o, grain: Swift.max(1, (1 << 14) / Swift.max(c &* taps, 1))) { rows in
            for row in rows {
                for column in 0..<c {
                    for t in 0..<taps {
                        let i = (t &* o &+ row) &* c &+ column
                        var s = partials[i]
                        for chunk in 1..<chunks { s += partials[chunk &* weightCount &+ i] }
                        dw[(row &* c &+ column) &* taps &+ t] = s
                    }
                }
            }
        }
    }
}
