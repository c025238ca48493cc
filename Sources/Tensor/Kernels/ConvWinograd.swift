#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", CVPR 2016): each 2×2 output tile is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// for the 4×4 input patch `d` and the 3×3 kernel `g`, with
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///     Aᵀ = [1 1 1 0; 0 1 −1 −1].
///
/// Summed over input channels, the elementwise product becomes 16 GEMMs per block of tiles,
/// `M_ξ [O × T] = U_ξ [O × C] · V_ξ [C × T]`, with 16 multiplications per tile and channel pair
/// instead of the 36 of the direct (im2col) form. The batch is split into one contiguous chunk
/// per thread, as in ``ConvGEMM``; a chunk transforms and multiplies one block of tiles at a
/// time (several whole images, or a range of tile rows of one image), sized so that its
/// transformed input and output stay in the core's L2 cache between the transforms and the GEMMs.
enum ConvWinograd {
    /// Whether `g` is a convolution this kernel computes: 3×3, stride 1, undilated, ungrouped,
    /// padded by at most 2 (so that its input gradient is a correlation this kernel computes too),
    /// and wide enough that the GEMMs dominate the transforms.
    static func supports(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1 && g.padHeight <= 2 && g.padWidth <= 2
            && g.inChannels >= 16 && g.outChannels >= 16
    }

    /// Floats of the transformed input and output blocks of one thread (512 KB, half an L2).
    static let blockFloats = 1 << 17

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// The transformed input `V` of a whole batch, written by a forward that will be
    /// differentiated and read back by ``backwardWeight(_:dy:dw:transformed:)`` (which so skips
    /// a second input transform): 16 floats per tile and input channel, four times the input. Blocks
    /// are laid out as the forward made them, so the chunk count is kept with them.
    final class TransformedInput {
        let storage: TensorStorage
        let chunks: Int

        init(_ g: ConvGeometry) {
            storage = TensorStorage(count: 16 &* g.inChannels &* Tiling(g).tiles &* g.batch)
            chunks = ConvGEMM.chunkCount(g)
        }
    }

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, keeping kept: TransformedInput? = nil) {
        let c = g.inChannels, o = g.outChannels, tiling = Tiling(g)
        // U_ξ = (G g Gᵀ)_ξ, stored [16][O][C].
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 &* o &* c)
        defer { u.deallocate() }
        transformWeights(w, outChannels: o, inChannels: c, u: u)
        forEachBlock(g, tiling, input: .transforming(x, into: kept)) { _, block, v, vStride, m, columns in
            for xi in 0..<16 {
                BLAS.sgemm(transposeA: false, transposeB: false, m: o, n: block.tiles, k: c, a: u + xi &* o &* c,
                           lda: c, b: v + xi &* c &* vStride, ldb: vStride, c: m + xi &* o &* columns, ldc: columns)
            }
            for (slot, image) in block.images.enumerated() {
                let yn = y + image &* o &* g.outPlane
                for channel in 0..<o {
                    transformOutput(m + (channel &* columns &+ slot &* block.tilesPerImage), stride: o &* columns,
                                    tiling: tiling, rows: block.tileRows, bias: bias?[channel] ?? 0, g: g,
                                    plane: yn + channel &* g.outPlane)
                }
            }
        }
    }

    /// The weight gradient `dw = Σ_{n, tiles} ∂L/∂g`, by the same tiles (Lavin & Gray's F(3×3, 2×2)
    /// form): with `Y = Aᵀ[(G g Gᵀ) ⊙ V]A`,
    ///
    ///     dU_ξ [O × C] = Σ_tiles (A dY Aᵀ)_ξ [O × T] · V_ξ [C × T]ᵀ,    dg = Gᵀ dU G,
    ///
    /// 16 GEMMs per block whose depth is the block's tile count (the im2col form has depth
    /// `H'·W'` per image and re-reads all of `dW` for every image). Tiles that stick out of
    /// an odd-sized output take `dY = 0` there. Each thread accumulates its own `dU`; the
    /// partials are summed in thread order (deterministic for a fixed thread count).
    static func backwardWeight(_ g: ConvGeometry, dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                               transformed kept: TransformedInput) {
        let c = g.inChannels, o = g.outChannels, tiling = Tiling(g)
        let partialCount = 16 &* o &* c, chunks = kept.chunks
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: chunks &* partialCount)
        defer { partials.deallocate() }
        partials.update(repeating: 0, count: chunks &* partialCount)
        forEachBlock(g, tiling, input: .kept(kept)) { chunk, block, v, vStride, m, columns in
            for (slot, image) in block.images.enumerated() {
                let dyn = dy + image &* o &* g.outPlane
                for channel in 0..<o {
                    transformOutputGradient(dyn + channel &* g.outPlane, g: g, tiling: tiling, rows: block.tileRows,
                                            m: m + (channel &* columns &+ slot &* block.tilesPerImage), stride: o &* columns)
                }
            }
            let du = partials + chunk &* partialCount
            for xi in 0..<16 {
                BLAS.sgemm(transposeA: false, transposeB: true, m: o, n: c, k: block.tiles, a: m + xi &* o &* columns,
                           lda: columns, b: v + xi &* c &* vStride, ldb: vStride, c: du + xi &* o &* c, ldc: c, accumulate: true)
            }
        }
        for chunk in 1..<Swift.max(chunks, 1) {
            let part = partials + chunk &* partialCount
            for i in 0..<partialCount { partials[i] += part[i] }
        }
        inverseTransformWeights(partials, outChannels: o, inChannels: c, dw: dw)
    }

    /// Tile counts, the zero-padded plane every input tile reads from, and the blocks one
    /// thread transforms and multiplies at a time.
    struct Tiling {
        let tilesY, tilesX, tiles: Int
        /// Rows 2·tilesY + 2, columns 2·tilesX + 2 (+ 16 so that vector loads of the last tiles
        /// stay inside).
        let paddedHeight, paddedWidth: Int
        /// Whole images per block when one image's transforms fit in ``blockFloats`` (else 1)…
        let imagesPerBlock: Int
        /// …and tile rows per block otherwise (else `tilesY`).
        let tileRowsPerBlock: Int

        init(_ g: ConvGeometry) {
            tilesY = (g.outHeight &+ 1) / 2
            tilesX = (g.outWidth &+ 1) / 2
            tiles = tilesY &* tilesX
            paddedHeight = 2 &* tilesY &+ 2
            paddedWidth = 2 &* tilesX &+ 2 &+ 16
            let perTile = 16 &* (g.inChannels &+ g.outChannels)
            let fitting = blockFloats / Swift.max(perTile &* tiles, 1)
            imagesPerBlock = Swift.max(1, fitting)
            tileRowsPerBlock = fitting >= 1 ? tilesY : Swift.max(1, blockFloats / Swift.max(perTile &* tilesX, 1))
        }

        /// The most tiles a block holds.
        var maximumBlockTiles: Int { imagesPerBlock &* Swift.min(tileRowsPerBlock, tilesY) &* tilesX }

        /// The blocks of a chunk's images, in order.
        func blocks(of images: Range<Int>) -> [Block] {
            if tileRowsPerBlock >= tilesY {
                return Swift.stride(from: images.lowerBound, to: images.upperBound, by: imagesPerBlock).map {
                    Block(images: $0..<Swift.min($0 &+ imagesPerBlock, images.upperBound), tileRows: 0..<tilesY, tilesX: tilesX)
                }
            }
            return images.flatMap { image in
                Swift.stride(from: 0, to: tilesY, by: tileRowsPerBlock).map {
                    Block(images: image..<image &+ 1, tileRows: $0..<Swift.min($0 &+ tileRowsPerBlock, tilesY), tilesX: tilesX)
                }
            }
        }
    }

    /// Tiles one thread transforms and multiplies at a time: the tile rows `tileRows` of each of
    /// `images`, stored image by image.
    struct Block {
        let images: Range<Int>
        let tileRows: Range<Int>
        let tilesPerImage: Int

        init(images: Range<Int>, tileRows: Range<Int>, tilesX: Int) {
            self.images = images
            self.tileRows = tileRows
            tilesPerImage = tileRows.count &* tilesX
        }

        var tiles: Int { images.count &* tilesPerImage }
    }

    /// Where a pass gets its transformed input from.
    enum BlockInput {
        /// Transform `x`, into per-thread scratch or, when given, into the kept whole-batch `V`.
        case transforming(UnsafePointer<Float>, into: TransformedInput?)
        /// Read the `V` a forward kept.
        case kept(TransformedInput)
    }

    /// Splits the batch into contiguous chunks (one per thread, or as many as the kept `V` was
    /// made with) and calls `body(chunk, block, v, vStride, m, columns)` for each block of a
    /// chunk, with the block's transformed input `V_ξ [C × T]` at `v` (stored [16][C][vStride],
    /// image-major within a row) and the output-side scratch `m` ([16][O][columns]). The kept `V`
    /// of a whole batch holds each block where its tiles lie in the batch.
    static func forEachBlock(_ g: ConvGeometry, _ tiling: Tiling, input: BlockInput,
                             _ body: (_ chunk: Int, _ block: Block, _ v: UnsafeMutablePointer<Float>, _ vStride: Int,
                                      _ m: UnsafeMutablePointer<Float>, _ columns: Int) -> Void) {
        let c = g.inChannels, o = g.outChannels, tiles = tiling.tiles
        let (x, kept): (UnsafePointer<Float>?, TransformedInput?)
        switch input {
        case let .transforming(source, into: target): (x, kept) = (source, target)
        case let .kept(source): (x, kept) = (nil, source)
        }
        let chunks = kept?.chunks ?? ConvGEMM.chunkCount(g)
        let paddedCount = x == nil ? 0 : tiling.paddedHeight &* tiling.paddedWidth
        parallelFor(chunks) { range in
            for chunk in range {
                let images = ConvGEMM.images(chunk: chunk, of: chunks, batch: g.batch)
                let columns = Swift.min(tiling.maximumBlockTiles, images.count &* tiles)
                // Scratch from the buffer pool: a steady-state step faults no fresh pages in.
                let vStorage = TensorStorage(count: kept == nil ? 16 &* c &* columns : 0)
                let mStorage = TensorStorage(count: 16 &* o &* columns)
                let paddedStorage = TensorStorage(count: paddedCount)
                let padded = paddedStorage.base
                padded.update(repeating: 0, count: paddedCount)
                for block in tiling.blocks(of: images) {
                    let firstTile = block.images.lowerBound &* tiles &+ block.tileRows.lowerBound &* tiling.tilesX
                    let v = kept.map { $0.storage.base + 16 &* c &* firstTile } ?? vStorage.base
                    let vStride = kept == nil ? columns : block.tiles
                    if let x {
                        for (slot, image) in block.images.enumerated() {
                            let xn = x + image &* c &* g.inPlane
                            for channel in 0..<c {
                                fillPadded(g, plane: xn + channel &* g.inPlane, padded: padded, tiling: tiling, rows: block.tileRows)
                                transformInput(padded, tiling: tiling, rows: block.tileRows,
                                               v: v + (channel &* vStride &+ slot &* block.tilesPerImage), stride: c &* vStride)
                            }
                        }
                    }
                    body(chunk, block, v, vStride, mStorage.base, columns)
                }
                withExtendedLifetime((vStorage, mStorage, paddedStorage)) {}
            }
        }
    }

    /// `U_ξ[o][c] = (G g_{o,c} Gᵀ)_ξ`.
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, u: UnsafeMutablePointer<Float>) {
        let plane = o &* c
        for oc in 0..<plane {
            let k = w + oc &* 9
            for i in 0..<4 {
                // Row i of t = G g, column by column.
                @inline(__always) func t(_ j: Int) -> Float {
                    let g0 = k[j], g1 = k[3 &+ j], g2 = k[6 &+ j]
                    switch i {
                    case 0: return g0
                    case 1: return 0.5 * (g0 + g1 + g2)
                    case 2: return 0.5 * (g0 - g1 + g2)
                    default: return g2
                    }
                }
                let t0 = t(0), t1 = t(1), t2 = t(2)
                u[(i &* 4) &* plane &+ oc] = t0
                u[(i &* 4 &+ 1) &* plane &+ oc] = 0.5 * (t0 + t1 + t2)
                u[(i &* 4 &+ 2) &* plane &+ oc] = 0.5 * (t0 - t1 + t2)
                u[(i &* 4 &+ 3) &* plane &+ oc] = t2
            }
        }
    }

    /// Copies the input rows that the tile rows `rows` read (padded rows `2·rows.lowerBound` to
    /// `2·rows.upperBound + 1`) into the interior of the zero-padded plane (the border, which
    /// the caller zeroed once, stays zero: the interior is the same region for every plane).
    @inline(__always)
    static func fillPadded(_ g: ConvGeometry, plane: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>,
                           tiling: Tiling, rows: Range<Int>) {
        let paddedWidth = tiling.paddedWidth
        // Padded row r, column q hold input row r − padH, column q − padW.
        let first = Swift.max(0, 2 &* rows.lowerBound &- g.padHeight)
        let end = Swift.min(g.height, 2 &* rows.upperBound &+ 2 &- g.padHeight)
        let width = Swift.min(g.width, paddedWidth &- g.padWidth)
        var r = first
        while r < end {
            memcpy(padded + ((r &+ g.padHeight) &* paddedWidth &+ g.padWidth), plane + r &* g.width, width &* 4)
            r &+= 1
        }
    }

    typealias Row4 = (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)

    @inline(__always)
    static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    static func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
    }

    /// `(a0, b0, a1, b1, a2, b2, a3, b3)`.
    @inline(__always)
    static func interleaved(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD8<Float> {
        SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
    }

    /// Columns `d[·][0…3]` of 4 consecutive tiles' patch row at `r` (even/odd halves of two
    /// 8-wide loads). Four tiles per step keep a patch's live values in the 16 SSE registers.
    @inline(__always)
    static func patchRow(_ r: UnsafePointer<Float>) -> Row4 {
        let a = load8(r), b = load8(r + 2)
        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
    }

    /// Stores row `t` of `Bᵀ d` times `B`: `V[i][·] = (t0 − t2, t1 + t2, t2 − t1, t1 − t3)`.
    @inline(__always)
    static func storeTransformed(_ t: Row4, _ base: UnsafeMutablePointer<Float>, _ stride: Int) {
        store4(t.0 - t.2, base)
        store4(t.1 + t.2, base + stride)
        store4(t.2 - t.1, base + 2 &* stride)
        store4(t.1 - t.3, base + 3 &* stride)
    }

    /// `V_ξ[tile] = (Bᵀ d B)_ξ` for every tile in the tile rows `rows` of one padded plane; `v`
    /// points at the first of those tiles in row ξ = 0, rows ξ are `stride` floats apart.
    @inline(__always)
    static func transformInput(_ p: UnsafePointer<Float>, tiling: Tiling, rows: Range<Int>, v: UnsafeMutablePointer<Float>,
                               stride: Int) {
        let paddedWidth = tiling.paddedWidth, tilesX = tiling.tilesX
        for ty in rows {
            let r0 = p + 2 &* ty &* paddedWidth, r1 = r0 + paddedWidth, r2 = r1 + paddedWidth, r3 = r2 + paddedWidth
            let out = v + (ty &- rows.lowerBound) &* tilesX
            var tx = 0
            while tx &+ 4 <= tilesX {
                let col = 2 &* tx, base = out + tx
                // Rows of t = Bᵀ d in the order that keeps the fewest patch rows live.
                let d1 = patchRow(r1 + col), d2 = patchRow(r2 + col)
                storeTransformed((d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3), base + 4 &* stride, stride)
                storeTransformed((d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3), base + 8 &* stride, stride)
                let d0 = patchRow(r0 + col)
                storeTransformed((d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3), base, stride)
                let d3 = patchRow(r3 + col)
                storeTransformed((d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3), base + 12 &* stride, stride)
                tx &+= 4
            }
            while tx < tilesX {
                let col = 2 &* tx
                for i in 0..<4 {
                    // Row i of t = Bᵀ d, column by column.
                    @inline(__always) func t(_ j: Int) -> Float {
                        let a = r0[col &+ j], b = r1[col &+ j], c = r2[col &+ j], d = r3[col &+ j]
                        switch i {
                        case 0: return a - c
                        case 1: return b + c
                        case 2: return c - b
                        default: return b - d
                        }
                    }
                    let t0 = t(0), t1 = t(1), t2 = t(2), t3 = t(3)
                    let base = out + (tx &+ (i &* 4) &* stride)
                    base[0] = t0 - t2
                    base[stride] = t1 + t2
                    base[2 &* stride] = t2 - t1
                    base[3 &* stride] = t1 - t3
                }
                tx &+= 1
            }
        }
    }

    /// `Y = Aᵀ M A (+ bias)` for every tile in the tile rows `rows` of one output plane; `m`
    /// points at the first of those tiles in row ξ = 0, rows ξ are `stride` floats apart. Tiles
    /// past an odd edge write only their rows and columns inside the plane.
    @inline(__always)
    static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, tiling: Tiling, rows: Range<Int>, bias: Float,
                                g: ConvGeometry, plane: UnsafeMutablePointer<Float>) {
        let tilesX = tiling.tilesX
        let ho = g.outHeight, wo = g.outWidth
        let b4 = SIMD4<Float>(repeating: bias)
        for ty in rows {
            let row0 = plane + 2 &* ty &* wo
            let hasSecondRow = 2 &* ty &+ 1 < ho
            let src = m + (ty &- rows.lowerBound) &* tilesX
            var tx = 0
            // Vector steps: 4 tiles whose 8 output columns lie inside the plane.
            while tx &+ 4 <= tilesX && 2 &* tx &+ 8 <= wo {
                @inline(__always) func r(_ xi: Int) -> SIMD4<Float> { load4(src + (tx &+ xi &* stride)) }
                // s = Aᵀ m (2×4), then y = s A (2×2), one output row at a time.
                let m1 = (r(4), r(5), r(6), r(7)), m2 = (r(8), r(9), r(10), r(11))
                let s00 = r(0) + m1.0 + m2.0, s01 = r(1) + m1.1 + m2.1, s02 = r(2) + m1.2 + m2.2, s03 = r(3) + m1.3 + m2.3
                let d0 = row0 + 2 &* tx
                UnsafeMutableRawPointer(d0).storeBytes(of: interleaved(s00 + s01 + s02 + b4, s01 - s02 - s03 + b4), as: SIMD8<Float>.self)
                if hasSecondRow {
                    let s10 = m1.0 - m2.0 - r(12), s11 = m1.1 - m2.1 - r(13), s12 = m1.2 - m2.2 - r(14), s13 = m1.3 - m2.3 - r(15)
                    UnsafeMutableRawPointer(d0 + wo).storeBytes(of: interleaved(s10 + s11 + s12 + b4, s11 - s12 - s13 + b4),
                                                                as: SIMD8<Float>.self)
                }
                tx &+= 4
            }
            while tx < tilesX {
                @inline(__always) func r(_ xi: Int) -> Float { src[tx &+ xi &* stride] }
                let s00 = r(0) + r(4) + r(8), s01 = r(1) + r(5) + r(9), s02 = r(2) + r(6) + r(10), s03 = r(3) + r(7) + r(11)
                let s10 = r(4) - r(8) - r(12), s11 = r(5) - r(9) - r(13), s12 = r(6) - r(10) - r(14), s13 = r(7) - r(11) - r(15)
                let d0 = row0 + 2 &* tx, d1 = d0 + wo
                let hasSecondColumn = 2 &* tx &+ 1 < wo
                d0[0] = s00 + s01 + s02 + bias
                if hasSecondColumn { d0[1] = s01 - s02 - s03 + bias }
                if hasSecondRow {
                    d1[0] = s10 + s11 + s12 + bias
                    if hasSecondColumn { d1[1] = s11 - s12 - s13 + bias }
                }
                tx &+= 1
            }
        }
    }

    /// `M_ξ[tile] = (A dY Aᵀ)_ξ` for every tile in the tile rows `rows` of one output-gradient
    /// plane (`dY = 0` outside the plane), with `A = Aᵀᵀ`: a row `(a, b)` becomes
    /// `(a, a + b, a − b, −b)`. `m` points at the first of those tiles in row ξ = 0, rows ξ are
    /// `stride` floats apart.
    @inline(__always)
    static func transformOutputGradient(_ plane: UnsafePointer<Float>, g: ConvGeometry, tiling: Tiling, rows: Range<Int>,
                                        m: UnsafeMutablePointer<Float>, stride: Int) {
        let ho = g.outHeight, wo = g.outWidth, tilesX = tiling.tilesX
        /// Rows ξ = 4i … 4i + 3 from row i of `A dY` (`a` its first, `b` its second column).
        @inline(__always) func store(_ a: SIMD4<Float>, _ b: SIMD4<Float>, row i: Int, _ base: UnsafeMutablePointer<Float>) {
            store4(a, base + (4 &* i) &* stride)
            store4(a + b, base + (4 &* i &+ 1) &* stride)
            store4(a - b, base + (4 &* i &+ 2) &* stride)
            store4(-b, base + (4 &* i &+ 3) &* stride)
        }
        for ty in rows {
            let row0 = plane + 2 &* ty &* wo
            let hasSecondRow = 2 &* ty &+ 1 < ho
            let out = m + (ty &- rows.lowerBound) &* tilesX
            var tx = 0
            // Vector steps: 4 tiles whose 8 columns lie inside the plane.
            while tx &+ 4 <= tilesX && 2 &* tx &+ 8 <= wo {
                let top = load8(row0 + 2 &* tx)
                let bottom = hasSecondRow ? load8(row0 + (wo &+ 2 &* tx)) : SIMD8<Float>()
                let p = top.evenHalf, q = top.oddHalf, r = bottom.evenHalf, t = bottom.oddHalf
                let base = out + tx
                store(p, q, row: 0, base)
                store(p + r, q + t, row: 1, base)
                store(p - r, q - t, row: 2, base)
                store(-r, -t, row: 3, base)
                tx &+= 4
            }
            while tx < tilesX {
                let column = 2 &* tx, hasSecondColumn = column &+ 1 < wo
                let p = row0[column], q = hasSecondColumn ? row0[column &+ 1] : 0
                let r = hasSecondRow ? row0[wo &+ column] : 0
                let t = hasSecondRow && hasSecondColumn ? row0[wo &+ column &+ 1] : 0
                @inline(__always) func storeTile(_ a: Float, _ b: Float, row i: Int) {
                    let base = out + (tx &+ (4 &* i) &* stride)
                    base[0] = a
                    base[stride] = a + b
                    base[2 &* stride] = a - b
                    base[3 &* stride] = -b
                }
                storeTile(p, q, row: 0)
                storeTile(p + r, q + t, row: 1)
                storeTile(p - r, q - t, row: 2)
                storeTile(-r, -t, row: 3)
                tx &+= 1
            }
        }
    }

    /// `dw[o][c] = Gᵀ dU_{o,c} G` from `dU` stored [16][O][C]; with
    /// `Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]` a 4-vector `u` maps to
    /// `(u0 + ½(u1 + u2), ½(u1 − u2), ½(u1 + u2) + u3)`.
    static func inverseTransformWeights(_ du: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int,
                                        dw: UnsafeMutablePointer<Float>) {
        let plane = o &* c
        @inline(__always) func reduce(_ u0: Float, _ u1: Float, _ u2: Float, _ u3: Float) -> (Float, Float, Float) {
            (u0 + 0.5 * (u1 + u2), 0.5 * (u1 - u2), 0.5 * (u1 + u2) + u3)
        }
        for oc in 0..<plane {
            @inline(__always) func entry(_ i: Int, _ j: Int) -> Float { du[(i &* 4 &+ j) &* plane &+ oc] }
            // Columns of Gᵀ dU (3 × 4), then each of its rows times G.
            let c0 = reduce(entry(0, 0), entry(1, 0), entry(2, 0), entry(3, 0))
            let c1 = reduce(entry(0, 1), entry(1, 1), entry(2, 1), entry(3, 1))
            let c2 = reduce(entry(0, 2), entry(1, 2), entry(2, 2), entry(3, 2))
            let c3 = reduce(entry(0, 3), entry(1, 3), entry(2, 3), entry(3, 3))
            let k = dw + oc &* 9
            (k[0], k[1], k[2]) = reduce(c0.0, c1.0, c2.0, c3.0)
            (k[3], k[4], k[5]) = reduce(c0.1, c1.1, c2.1, c3.1)
            (k[6], k[7], k[8]) = reduce(c0.2, c1.2, c2.2, c3.2)
        }
    }
}
