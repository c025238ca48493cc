/// Convolution as GEMMs over im2col matrices (or over the input planes themselves for 1×1
/// stride-1 convolutions), one image at a time.
///
/// Per image and group, with `X` the `[C/g·kH·kW, H'·W']` column matrix:
///
///     forward   Y_g  = W_g · X_g
///     weight    dW_g += dY_g · X_gᵀ        (summed over the batch)
///     input     dX_g  = col2im(W_gᵀ · dY_g)
///
/// The batch is split into one contiguous chunk per thread; each chunk owns its scratch matrix
/// and its partial `dW`, and the partials are summed in chunk order (deterministic for a fixed
/// thread count). With a single chunk (batch 1) the GEMMs themselves use every BLAS thread.
enum ConvGEMM {
    static func chunkCount(_ g: ConvGeometry) -> Int { Swift.max(1, Swift.min(Parallel.threadCount, g.batch)) }

    @inline(__always)
    static func images(chunk: Int, of chunks: Int, batch: Int) -> Range<Int> {
        (batch &* chunk / chunks)..<(batch &* (chunk &+ 1) / chunks)
    }

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let chunks = chunkCount(g)
        let scratchCount = g.isPointwise ? 0 : g.patch &* g.outPlane
        parallelFor(chunks) { range in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchCount, 1))
            defer { col.deallocate() }
            for chunk in range {
                for n in images(chunk: chunk, of: chunks, batch: g.batch) {
                    let xn = x + n &* g.inChannels &* g.inPlane
                    let yn = y + n &* g.outChannels &* g.outPlane
                    for group in 0..<g.groups {
                        let xg = xn + group &* g.inPerGroup &* g.inPlane
                        let b: UnsafePointer<Float>
                        if g.isPointwise {
                            b = xg
                        } else {
                            ConvIm2col.im2col(g, x: xg, col: col)
                            b = UnsafePointer(col)
                        }
                        BLAS.sgemm(transposeA: false, transposeB: false, m: g.outPerGroup, n: g.outPlane, k: g.patch,
                                   a: w + group &* g.outPerGroup &* g.patch, lda: g.patch, b: b, ldb: g.outPlane,
                                   c: yn + group &* g.outPerGroup &* g.outPlane, ldc: g.outPlane)
                    }
                    if let bias {
                        for o in 0..<g.outChannels {
                            let plane = yn + o &* g.outPlane, value = bias[o]
                            for j in 0..<g.outPlane { plane[j] += value }
                        }
                    }
                }
            }
        }
    }

    /// Writes every element of `dx` and `dw` that is non-nil.
    static func backward(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        guard dx != nil || dw != nil else { return }
        let chunks = chunkCount(g)
        let weightCount = g.outChannels &* g.patch
        // Partial weight gradients, one per chunk; a single chunk accumulates into dw directly.
        let partials: UnsafeMutablePointer<Float>? = dw.map { dw in
            let p = chunks == 1 ? dw : UnsafeMutablePointer<Float>.allocate(capacity: chunks &* weightCount)
            p.update(repeating: 0, count: (chunks == 1 ? 1 : chunks) &* weightCount)
            return p
        }
        let scratchCount = g.isPointwise ? 0 : g.patch &* g.outPlane
        parallelFor(chunks) { range in
            let col = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(scratchCount, 1))
            defer { col.deallocate() }
            for chunk in range {
                let dwPart = partials.map { $0 + chunk &* weightCount }
                for n in images(chunk: chunk, of: chunks, batch: g.batch) {
                    let xn = x + n &* g.inChannels &* g.inPlane
                    let dyn = dy + n &* g.outChannels &* g.outPlane
                    let dxn = dx.map { $0 + n &* g.inChannels &* g.inPlane }
                    if let dxn, !g.isPointwise { dxn.update(repeating: 0, count: g.inChannels &* g.inPlane) }
                    for group in 0..<g.groups {
                        let xg = xn + group &* g.inPerGroup &* g.inPlane
                        let dyg = dyn + group &* g.outPerGroup &* g.outPlane
                        let wg = w + group &* g.outPerGroup &* g.patch
                        if let dwPart {
                            let b: UnsafePointer<Float>
                            if g.isPointwise {
                                b = xg
                            } else {
                                ConvIm2col.im2col(g, x: xg, col: col)
                                b = UnsafePointer(col)
                            }
                            BLAS.sgemm(transposeA: false, transposeB: true, m: g.outPerGroup, n: g.patch, k: g.outPlane,
                                       a: dyg, lda: g.outPlane, b: b, ldb: g.outPlane,
                                       c: dwPart + group &* g.outPerGroup &* g.patch, ldc: g.patch, accumulate: true)
                        }
                        if let dxn {
                            let dxg = dxn + group &* g.inPerGroup &* g.inPlane
                            if g.isPointwise {
                                BLAS.sgemm(transposeA: true, transposeB: false, m: g.inPerGroup, n: g.inPlane, k: g.outPerGroup,
                                           a: wg, lda: g.patch, b: dyg, ldb: g.outPlane, c: dxg, ldc: g.inPlane)
                            } else {
                                BLAS.sgemm(transposeA: true, transposeB: false, m: g.patch, n: g.outPlane, k: g.outPerGroup,
                                           a: wg, lda: g.patch, b: dyg, ldb: g.outPlane, c: col, ldc: g.outPlane)
                                ConvIm2col.col2im(g, col: col, dx: dxg)
                            }
                        }
                    }
                }
            }
        }
        if let dw, let partials, chunks > 1 {
            parallelFor(weightCount, grain: 1 << 14) { range in
                for i in range {
                    var s: Float = 0
                    for chunk in 0..<chunks { s += partials[chunk &* weightCount &+ i] }
                    dw[i] = s
                }
            }
            partials.deallocate()
        }
    }
}
