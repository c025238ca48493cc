/// Convolution as GEMMs over im2col matrices (or over the input planes themselves for 1×1
/// stride-1 convolutions).
///
/// Per image and group, with `X` the `[C/g·kH·kW, H'·W']` column matrix:
///
///     forward   Y_g  = W_g · X_g
///     weight    dW_g += dY_g · X_gᵀ        (summed over the batch)
///     input     dX_g  = col2im(W_gᵀ · dY_g)
///
/// Large planes: the column matrix is built for bands of output rows (about ``bandFloats``
/// elements) so that it is still in cache when the GEMM reads it, one image at a time. Small
/// planes (under ``smallPlane`` positions, ungrouped, kernels larger than 1×1): the column
/// matrices of a block of images stand side by side (about ``imageBlockFloats`` elements), so
/// that one GEMM covers them all.
/// Per-image GEMMs would be narrow there, and the weight gradient's would have the depth of one
/// small plane while reading and writing all of `dW` (2.4 MB for a 256→256 3×3 stride-2
/// kernel, per 16-position image). The forward pass runs over ``parallelFor(_:grain:_:)``'s
/// pieces of the batch, each with its own scratch matrices. The backward pass splits the batch
/// into one contiguous chunk per thread; each chunk owns its scratch matrices and its partial
/// `dW`, and the partials are summed in chunk order (deterministic for a fixed thread count).
/// With a batch of 1 the GEMMs themselves use every BLAS thread.
enum ConvGEMM {
    /// Target size of one band's column matrix (512 KB).
    static let bandFloats = 1 << 17
    /// Target size of the column matrix of a block of small-plane images (2 MB).
    static let imageBlockFloats = 1 << 19
    /// Output planes below this many positions are computed a block of images at a time.
    static let smallPlane = 1024

    static func chunkCount(_ g: ConvGeometry) -> Int { Swift.max(1, Swift.min(Parallel.threadCount, g.batch)) }

    /// Images per GEMM: 1 (with bands of rows), or several for small ungrouped planes of kernels
    /// larger than 1×1 (a 1×1 kernel's shallow GEMMs gain less than the copies into and out of
    /// the block cost).
    static func imagesPerBlock(_ g: ConvGeometry) -> Int {
        guard g.groups == 1, g.outPlane < smallPlane, g.kernelArea > 1 else { return 1 }
        return Swift.max(1, imageBlockFloats / Swift.max(g.patch &* g.outPlane, 1))
    }

    /// Output rows per band.
    static func bandRows(_ g: ConvGeometry) -> Int {
        Swift.min(g.outHeight, Swift.max(1, bandFloats / Swift.max(g.patch &* g.outWidth, 1)))
    }

    /// The bands of output rows.
    static func bands(_ g: ConvGeometry) -> [Range<Int>] {
        let step = bandRows(g)
        return Swift.stride(from: 0, to: g.outHeight, by: step).map { $0..<Swift.min($0 &+ step, g.outHeight) }
    }

    @inline(__always)
    static func images(chunk: Int, of chunks: Int, batch: Int) -> Range<Int> {
        (batch &* chunk / chunks)..<(batch &* (chunk &+ 1) / chunks)
    }

    /// `images` cut into consecutive blocks of at most `size`.
    static func blocks(of images: Range<Int>, size: Int) -> [Range<Int>] {
        Swift.stride(from: images.lowerBound, to: images.upperBound, by: size).map {
            $0..<Swift.min($0 &+ size, images.upperBound)
        }
    }

    /// Zeroed phase planes for the ``imageBlockColumns`` of one piece or chunk of a strided
    /// convolution (empty for others): no split writes the padding places, so they stay zero
    /// for every image split into them, and the planes are cleared once, not once per block.
    static func columnPhases(_ g: ConvGeometry) -> TensorStorage {
        let count = ConvPolyphase.supports(g) ? ConvPolyphase(g).floats : 0
        let phases = TensorStorage(count: count)  // from the buffer pool
        phases.base.update(repeating: 0, count: count)
        return phases
    }

    /// The column matrices of the images `block` side by side: `[patch × block.count·H'W']`,
    /// image `j`'s columns at offset `j·H'W'` of every row (strided convolutions through
    /// ``ConvPolyphase``, split into `phases` from ``columnPhases(_:)``).
    @inline(__always)
    static func imageBlockColumns(_ g: ConvGeometry, block: Range<Int>, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
                                  phases: UnsafeMutablePointer<Float>) {
        let width = block.count &* g.outPlane
        if ConvPolyphase.supports(g) {
            let polyphase = ConvPolyphase(g)
            for (slot, n) in block.enumerated() {
                polyphase.split(x + n &* g.inChannels &* g.inPlane, into: phases)
                polyphase.columns(from: phases, into: col + slot &* g.outPlane, rowStride: width)
            }
            return
        }
        for (slot, n) in block.enumerated() {
            ConvIm2col.im2col(g, rows: 0..<g.outHeight, x: x + n &* g.inChannels &* g.inPlane, col: col + slot &* g.outPlane,
                              rowStride: width)
        }
    }

    /// `epilogue` maps each image's output planes once they are complete (still in cache).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue: ChannelEpilogue? = nil) {
        if imagesPerBlock(g) > 1 { return forwardImageBlocks(g, x: x, w: w, bias: bias, y: y, epilogue: epilogue) }
        let bandList = bands(g)
        let scratchCount = g.isPointwise ? 0 : g.patch &* bandRows(g) &* g.outWidth
        parallelFor(g.batch) { images in
            let scratch = TensorStorage(count: scratchCount)  // from the buffer pool
            let col = scratch.base
            defer { withExtendedLifetime(scratch) {} }
            for n in images {
                let xn = x + n &* g.inChannels &* g.inPlane
                let yn = y + n &* g.outChannels &* g.outPlane
                for group in 0..<g.groups {
                    let xg = xn + group &* g.inPerGroup &* g.inPlane
                    let wg = w + group &* g.outPerGroup &* g.patch
                    let yg = yn + group &* g.outPerGroup &* g.outPlane
                    if g.isPointwise {
                        BLAS.sgemmInSmallParts(m: g.outPerGroup, n: g.outPlane, k: g.patch, a: wg, lda: g.patch, b: xg,
                                               ldb: g.outPlane, c: yg, ldc: g.outPlane)
                        continue
                    }
                    for band in bandList {
                        let columns = band.count &* g.outWidth
                        ConvIm2col.im2col(g, rows: band, x: xg, col: col)
                        BLAS.sgemmInSmallParts(m: g.outPerGroup, n: columns, k: g.patch, a: wg, lda: g.patch, b: col, ldb: columns,
                                               c: yg + band.lowerBound &* g.outWidth, ldc: g.outPlane)
                    }
                }
                if let bias {
                    for o in 0..<g.outChannels {
                        let plane = yn + o &* g.outPlane, value = bias[o]
                        for j in 0..<g.outPlane { plane[j] += value }
                    }
                }
                if let epilogue {
                    for o in 0..<g.outChannels { epilogue.apply(yn + o &* g.outPlane, channel: o, count: g.outPlane) }
                }
            }
        }
    }

    /// ``forward`` a block of small-plane images per GEMM: `Y_block = W · [X_1 … X_b]` into
    /// scratch, then each image's rows copied to its planes (with the bias and the epilogue).
    static func forwardImageBlocks(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                   bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, epilogue: ChannelEpilogue?) {
        let perBlock = imagesPerBlock(g), plane = g.outPlane, o = g.outChannels
        parallelFor(g.batch) { images in
            let colStorage = TensorStorage(count: g.patch &* perBlock &* plane)  // from the buffer pool
            let outStorage = TensorStorage(count: o &* perBlock &* plane)
            let phaseStorage = columnPhases(g)
            let col = colStorage.base, out = outStorage.base
            defer { withExtendedLifetime((colStorage, outStorage, phaseStorage)) {} }
            for block in blocks(of: images, size: perBlock) {
                let width = block.count &* plane
                imageBlockColumns(g, block: block, x: x, col: col, phases: phaseStorage.base)
                BLAS.sgemm(transposeA: false, transposeB: false, m: o, n: width, k: g.patch, a: w, lda: g.patch,
                           b: col, ldb: width, c: out, ldc: width)
                for (slot, n) in block.enumerated() {
                    for channel in 0..<o {
                        let src = out + (channel &* width &+ slot &* plane), dst = y + (n &* o &+ channel) &* plane
                        if let bias {
                            let value = bias[channel]
                            for j in 0..<plane { dst[j] = src[j] + value }
                        } else {
                            dst.update(from: src, count: plane)
                        }
                        epilogue?.apply(dst, channel: channel, count: plane)
                    }
                }
            }
        }
    }

    /// The input gradient of a stride-1, undilated convolution with padding `p < k` as a forward
    /// correlation of `dY` with the kernel flipped and its channel axes swapped,
    ///
    ///     dx[n, c, y, x] = Σ_{o, u, v} w'[c, o, u, v] · dy[n, o, y + u − p', x + v − p']
    ///     w'[c, o, u, v] = w[o, c, kH − 1 − u, kW − 1 − v],   p' = k − 1 − p
    ///
    /// (per group; ``ConvGeometry/inputGradientCorrelation``, ``ConvGeometry/flippedKernels(_:)``).
    /// Its GEMMs have the forward's depth `O/g·kH·kW` instead of the `O/g` of `Wᵀ·dY`, and no
    /// col2im scatter-add is needed. Returns `false` (writing nothing) when the geometry does
    /// not allow it.
    static func backwardInputByCorrelation(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                           dx: UnsafeMutablePointer<Float>) -> Bool {
        guard !g.isPointwise, g.dilationHeight == 1, g.dilationWidth == 1, let correlation = g.inputGradientCorrelation else { return false }
        let flipped = g.flippedKernels(w)
        defer { withExtendedLifetime(flipped) {} }
        correlation.forward(x: dy, w: flipped.base, bias: nil, y: dx)
        return true
    }

    /// Writes every element of `dx` and `dw` that is non-nil.
    static func backward(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        guard dx != nil || dw != nil else { return }
        let chunks = chunkCount(g)
        let weightCount = g.outChannels &* g.patch
        // Partial weight gradients, one per chunk (a single chunk's is dw itself): the chunk's first
        // GEMMs write it, the others add to it; every chunk holds at least one image.
        let partialStorage = TensorStorage(count: dw != nil && chunks > 1 ? chunks &* weightCount : 0)  // from the buffer pool
        defer { withExtendedLifetime(partialStorage) {} }
        let partials: UnsafeMutablePointer<Float>? = dw.map { dw in chunks == 1 ? dw : partialStorage.base }
        let blockGradients = imagesPerBlock(g) > 1
        parallelFor(chunks) { range in
            for chunk in range {
                let images = images(chunk: chunk, of: chunks, batch: g.batch)
                let dwPart = partials.map { $0 + chunk &* weightCount }
                if blockGradients {
                    backwardImageBlocks(g, images: images, dy: dy, x: x, w: w, dx: dx, dw: dwPart)
                } else {
                    backwardPerImage(g, images: images, dy: dy, x: x, w: w, dx: dx, dw: dwPart)
                }
            }
        }
        if let dw, let partials, chunks > 1 {
            sumPartials(partials, chunks: chunks, count: weightCount, into: dw)
        }
    }

    /// `out[i] = Σ_chunk partials[chunk·count + i]`, summed in chunk order (deterministic for a
    /// fixed thread count) and in parallel over `i`; `out` may be `partials` itself. `chunks ≥ 1`.
    static func sumPartials(_ partials: UnsafeMutablePointer<Float>, chunks: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        parallelFor(count, grain: 1 << 14) { range in
            for i in range {
                var s = partials[i]
                for chunk in 1..<chunks { s += partials[chunk &* count &+ i] }
                out[i] = s
            }
        }
    }

    /// ``backward`` of one chunk of images, one image (and band of rows) at a time; `dw` is the
    /// sum over the chunk (written by its first image's GEMMs).
    static func backwardPerImage(_ g: ConvGeometry, images: Range<Int>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                 w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let bandList = bands(g)
        let scratch = TensorStorage(count: g.isPointwise ? 0 : g.patch &* bandRows(g) &* g.outWidth)  // from the buffer pool
        let col = scratch.base
        defer { withExtendedLifetime(scratch) {} }
        for n in images {
            let xn = x + n &* g.inChannels &* g.inPlane
            let dyn = dy + n &* g.outChannels &* g.outPlane
            let dxn = dx.map { $0 + n &* g.inChannels &* g.inPlane }
            if let dxn, !g.isPointwise { dxn.update(repeating: 0, count: g.inChannels &* g.inPlane) }
            for group in 0..<g.groups {
                let xg = xn + group &* g.inPerGroup &* g.inPlane
                let dyg = dyn + group &* g.outPerGroup &* g.outPlane
                let wg = w + group &* g.outPerGroup &* g.patch
                let dwg = dw.map { $0 + group &* g.outPerGroup &* g.patch }
                let dxg = dxn.map { $0 + group &* g.inPerGroup &* g.inPlane }
                if g.isPointwise {
                    if let dwg {
                        BLAS.sgemm(transposeA: false, transposeB: true, m: g.outPerGroup, n: g.patch, k: g.outPlane,
                                   a: dyg, lda: g.outPlane, b: xg, ldb: g.outPlane, c: dwg, ldc: g.patch,
                                   accumulate: n != images.lowerBound)
                    }
                    if let dxg {
                        BLAS.sgemmInSmallParts(transposeA: true, m: g.inPerGroup, n: g.inPlane, k: g.outPerGroup, a: wg, lda: g.patch,
                                               b: dyg, ldb: g.outPlane, c: dxg, ldc: g.inPlane)
                    }
                    continue
                }
                for band in bandList {
                    let columns = band.count &* g.outWidth
                    let dyBand = dyg + band.lowerBound &* g.outWidth
                    if let dwg {
                        ConvIm2col.im2col(g, rows: band, x: xg, col: col)
                        BLAS.sgemm(transposeA: false, transposeB: true, m: g.outPerGroup, n: g.patch, k: columns,
                                   a: dyBand, lda: g.outPlane, b: col, ldb: columns, c: dwg, ldc: g.patch,
                                   accumulate: n != images.lowerBound || band.lowerBound != 0)
                    }
                    if let dxg {
                        BLAS.sgemmInSmallParts(transposeA: true, m: g.patch, n: columns, k: g.outPerGroup, a: wg, lda: g.patch,
                                               b: dyBand, ldb: g.outPlane, c: col, ldc: columns)
                        ConvIm2col.col2im(g, rows: band, col: col, dx: dxg)
                    }
                }
            }
        }
    }

    /// ``backward`` of one chunk of images, a block of small-plane images per GEMM (ungrouped):
    /// `dY` of the block gathered side by side, `dW += dY_block · X_blockᵀ` of depth
    /// `block·H'W'`, `dX_block = col2im(Wᵀ · dY_block)`; `dw` is the sum over the chunk
    /// (written by its first block's GEMM).
    static func backwardImageBlocks(_ g: ConvGeometry, images: Range<Int>, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                    w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let perBlock = imagesPerBlock(g), plane = g.outPlane, o = g.outChannels, inCount = g.inChannels &* g.inPlane
        let polyphase = ConvPolyphase.supports(g) ? ConvPolyphase(g) : nil
        let colStorage = TensorStorage(count: g.patch &* perBlock &* plane)  // from the buffer pool
        let dyStorage = TensorStorage(count: o &* perBlock &* plane)
        // Phase planes for the column matrices (their padding stays zero) and for the input
        // gradient (cleared for every image: col2im adds into the padding places too).
        let columnPhaseStorage = dw == nil ? TensorStorage(count: 0) : columnPhases(g)
        let phaseStorage = TensorStorage(count: dx == nil ? 0 : polyphase?.floats ?? 0)
        let col = colStorage.base, dyBlock = dyStorage.base, phases = phaseStorage.base
        defer { withExtendedLifetime((colStorage, dyStorage, columnPhaseStorage, phaseStorage)) {} }
        for block in blocks(of: images, size: perBlock) {
            let width = block.count &* plane
            for (slot, n) in block.enumerated() {
                for channel in 0..<o {
                    (dyBlock + (channel &* width &+ slot &* plane)).update(from: dy + (n &* o &+ channel) &* plane, count: plane)
                }
            }
            if let dw {
                imageBlockColumns(g, block: block, x: x, col: col, phases: columnPhaseStorage.base)
                BLAS.sgemm(transposeA: false, transposeB: true, m: o, n: g.patch, k: width, a: dyBlock, lda: width,
                           b: col, ldb: width, c: dw, ldc: g.patch, accumulate: block.lowerBound != images.lowerBound)
            }
            if let dx {
                BLAS.sgemm(transposeA: true, transposeB: false, m: g.patch, n: width, k: o, a: w, lda: g.patch,
                           b: dyBlock, ldb: width, c: col, ldc: width)
                for (slot, n) in block.enumerated() {
                    let dxn = dx + n &* inCount
                    if let polyphase {
                        phases.update(repeating: 0, count: polyphase.floats)
                        polyphase.addColumns(col + slot &* plane, rowStride: width, into: phases)
                        polyphase.merge(phases, into: dxn)
                    } else {
                        dxn.update(repeating: 0, count: inCount)
                        ConvIm2col.col2im(g, rows: 0..<g.outHeight, col: col + slot &* plane, dx: dxn, rowStride: width)
                    }
                }
            }
        }
    }
}
