#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// 3×3 stride-1 convolutions by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", CVPR 2016): each 4×4 output tile is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// for the 6×6 input patch `d` and the 3×3 kernel `g`, with (interpolation points 0, ±1, ±2, ∞)
///
///     Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
///     G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
///     Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
///
/// Summed over input channels, the elementwise product becomes 36 GEMMs per block of tiles,
/// `M_ξ [O × T] = U_ξ [O × C] · V_ξ [C × T]`, with 36 multiplications per tile and channel pair
/// instead of the 144 of the direct (im2col) form (F(2×2, 3×3) needs 64), and a transformed
/// input 2.25 times the input (F(2×2, 3×3): 4 times). As in ``ConvGEMM``, the forward pass runs
/// over ``parallelFor(_:grain:_:)``'s pieces of the batch and the weight gradient over one
/// contiguous chunk per thread; a piece or chunk transforms and multiplies one block of tiles at
/// a time (several whole images, or a range of tile rows of one image), sized so that its
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

    /// Floats of the transformed input and output blocks of one thread (1 MB, the core's L2:
    /// the GEMMs then write and read them there; 512 KB made the blocks of 64→64 channels
    /// on 56×56 planes too small, 2 MB overflowed the L2 for 32→32 channels)…
    static let blockFloats = 1 << 18
    /// …unless a point GEMM (`O × C` by `C × tiles`) would then do fewer multiply-adds than
    /// this: with few channels, blocks grow until the GEMMs are worth their call and packing
    /// (32→32 channels on 32×32 planes: 2 whole images, 128 tiles, instead of 1)…
    static let minimumGEMMWork = 1 << 17
    /// …or hold fewer tiles than OpenBLAS's AVX-512 sgemm kernel computes at once (the tiles are
    /// the 16-wide dimension of its micro-tiles): 128→256 channels on 8×8 planes had 8.
    static let minimumBlockTiles = 16

    /// Transformed values per tile: the 6×6 points ξ.
    static let points = 36

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, o = g.outChannels, tiling = Tiling(g)
        // U_ξ = (G g Gᵀ)_ξ, stored [36][O][C].
        let uStorage = TensorStorage(count: points &* o &* c)  // from the buffer pool
        let u = uStorage.base
        defer { withExtendedLifetime(uStorage) {} }
        transformWeights(w, outChannels: o, inChannels: c, u: u)
        forEachBlock(g, tiling, x: x) { _, block, v, m in
            for xi in 0..<points {
                BLAS.sgemm(transposeA: false, transposeB: false, m: o, n: block.tiles, k: c, a: u + xi &* o &* c,
                           lda: c, b: v.matrix(xi), ldb: v.row, c: m.matrix(xi), ldc: m.row)
            }
            for (slot, image) in block.images.enumerated() {
                let yn = y + image &* o &* g.outPlane
                for channel in 0..<o {
                    transformOutput(m.base + (channel &* m.row &+ slot &* block.tilesPerImage), stride: m.point,
                                    tiling: tiling, rows: block.tileRows, bias: bias?[channel] ?? 0, g: g,
                                    plane: yn + channel &* g.outPlane)
                }
            }
        }
    }

    /// The weight gradient `dw = Σ_{n, tiles} ∂L/∂g`, by the same tiles (the F(3×3, 4×4) form of
    /// Lavin & Gray): with `Y = Aᵀ[(G g Gᵀ) ⊙ V]A`,
    ///
    ///     dU_ξ [O × C] = Σ_tiles (A dY Aᵀ)_ξ [O × T] · V_ξ [C × T]ᵀ,    dg = Gᵀ dU G,
    ///
    /// 36 GEMMs per block whose depth is the block's tile count. Tiles that stick out of
    /// an output whose size is not a multiple of 4 take `dY = 0` there. `V` is transformed from
    /// `x` again, block by block, rather than kept from the forward pass: it would be 2.25 times
    /// the input, and written out of cache it cost as much as transforming again. Each thread
    /// accumulates its own `dU` (its first block's GEMMs write it, the others add to it); the
    /// partials are summed in thread order (deterministic for a fixed thread count) as the
    /// inverse transform reads them.
    static func backwardWeight(_ g: ConvGeometry, dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                               dw: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, o = g.outChannels, tiling = Tiling(g)
        let partialCount = points &* o &* c, chunks = ConvGEMM.chunkCount(g)
        let partialStorage = TensorStorage(count: chunks &* partialCount)  // from the buffer pool
        let partials = partialStorage.base
        defer { withExtendedLifetime(partialStorage) {} }
        forEachBlock(g, tiling, x: x, chunks: chunks) { chunk, block, v, m in
            for (slot, image) in block.images.enumerated() {
                let dyn = dy + image &* o &* g.outPlane
                for channel in 0..<o {
                    transformOutputGradient(dyn + channel &* g.outPlane, g: g, tiling: tiling, rows: block.tileRows,
                                            m: m.base + (channel &* m.row &+ slot &* block.tilesPerImage), stride: m.point)
                }
            }
            // A chunk's first block (every chunk holds one: it has at least one image) writes its partial.
            let first = block.images.lowerBound == ConvGEMM.images(chunk: chunk, of: chunks, batch: g.batch).lowerBound
                && block.tileRows.lowerBound == 0
            let du = partials + chunk &* partialCount, accumulate = !first
            for xi in 0..<points {
                BLAS.sgemm(transposeA: false, transposeB: true, m: o, n: c, k: block.tiles, a: m.matrix(xi), lda: m.row,
                           b: v.matrix(xi), ldb: v.row, c: du + xi &* o &* c, ldc: c, accumulate: accumulate)
            }
        }
        inverseTransformWeights(partials, chunks: chunks, outChannels: o, inChannels: c, dw: dw)
    }

    /// Tile counts, the zero-padded plane every input tile reads from, and the blocks one
    /// thread transforms and multiplies at a time.
    struct Tiling {
        let tilesY, tilesX, tiles: Int
        /// Rows 4·tilesY + 2, columns 4·tilesX + 2 (+ 16: the 8-wide loads of the Bᵀ pass reach 7
        /// columns further, a partial group's column loads from its scratch rows 14).
        let paddedHeight, paddedWidth: Int
        /// Whole images per block when one image's transforms fit in ``blockFloats`` (else 1)…
        let imagesPerBlock: Int
        /// …and tile rows per block otherwise (else `tilesY`).
        let tileRowsPerBlock: Int

        init(_ g: ConvGeometry) {
            tilesY = (g.outHeight &+ 3) / 4
            tilesX = (g.outWidth &+ 3) / 4
            tiles = tilesY &* tilesX
            paddedHeight = 4 &* tilesY &+ 2
            paddedWidth = 4 &* tilesX &+ 2 &+ 16
            let perTile = points &* (g.inChannels &+ g.outChannels)
            let blockTiles = Swift.max(blockFloats / perTile, minimumGEMMWork / Swift.max(g.inChannels &* g.outChannels, 1),
                                       minimumBlockTiles)
            let fitting = blockTiles / Swift.max(tiles, 1)
            imagesPerBlock = Swift.max(1, fitting)
            tileRowsPerBlock = fitting >= 1 ? tilesY : Swift.max(1, blockTiles / Swift.max(tilesX, 1))
        }

        /// The most tiles a block holds.
        var maximumBlockTiles: Int { imagesPerBlock &* tileRowsPerBlock &* tilesX }

        /// Floats of ``transformInput(_:tiling:rows:scratch:v:stride:)``'s row scratch: 6 padded
        /// rows, 12 where it transforms two tile rows at once (two tiles per row).
        var inputScratchFloats: Int { (tilesX == 2 ? 12 : 6) &* paddedWidth }

        /// The blocks of a chunk's images, in order.
        func blocks(of images: Range<Int>) -> [Block] {
            if tileRowsPerBlock >= tilesY {
                return ConvGEMM.blocks(of: images, size: imagesPerBlock).map { Block(images: $0, tileRows: 0..<tilesY, tilesX: tilesX) }
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

    /// Floats between one point's matrix and the next beyond its rows (64 bytes): a transform
    /// writes (or reads) all 36 at once, and when a matrix is a multiple of 4 KB long they would
    /// otherwise all fall into one cache set.
    static let pointPadding = 16

    /// The 36 matrices of a block, one per point ξ: row `r` (a channel) of point ξ starts at
    /// `base + ξ·point + r·row`; a row holds the block's tiles, image by image.
    struct Points {
        let base: UnsafeMutablePointer<Float>
        let row: Int
        let point: Int

        init(_ base: UnsafeMutablePointer<Float>, rows: Int, row: Int) {
            self.base = base
            self.row = row
            point = rows &* row &+ pointPadding
        }

        /// Floats of 36 matrices of `rows` rows of `row` floats.
        static func count(rows: Int, row: Int) -> Int { points &* (rows &* row &+ pointPadding) }

        func matrix(_ xi: Int) -> UnsafeMutablePointer<Float> { base + xi &* point }
    }

    /// Calls `body(part, block, v, m)` for each block of tiles, with the block's transformed
    /// input `V_ξ [C × T]` (from `x`) and the output-side scratch `M_ξ [O × T]`, in parallel over
    /// parts of the batch: ``parallelFor(_:grain:_:)``'s pieces of the images (`part` is then a
    /// piece's first image), or, with `chunks`, that many contiguous chunks (`part` is the
    /// chunk's index: a kernel that keeps one partial result per chunk).
    static func forEachBlock(_ g: ConvGeometry, _ tiling: Tiling, x: UnsafePointer<Float>, chunks: Int? = nil,
                             _ body: (_ part: Int, _ block: Block, _ v: Points, _ m: Points) -> Void) {
        let c = g.inChannels, o = g.outChannels, tiles = tiling.tiles
        let paddedCount = tiling.paddedHeight &* tiling.paddedWidth
        /// The blocks of one part.
        func run(_ part: Int, _ images: Range<Int>) {
            let columns = Swift.min(tiling.maximumBlockTiles, images.count &* tiles)
            // Scratch from the buffer pool: a steady-state step faults no fresh pages in.
            let vStorage = TensorStorage(count: Points.count(rows: c, row: columns))
            let mStorage = TensorStorage(count: Points.count(rows: o, row: columns))
            let paddedStorage = TensorStorage(count: paddedCount), rowsStorage = TensorStorage(count: tiling.inputScratchFloats)
            let padded = paddedStorage.base
            padded.update(repeating: 0, count: paddedCount)
            // A partial group of tiles reads a few scratch columns past those Bᵀ writes
            // (into lanes it drops): zero, not whatever the pool held.
            rowsStorage.base.update(repeating: 0, count: tiling.inputScratchFloats)
            let v = Points(vStorage.base, rows: c, row: columns), m = Points(mStorage.base, rows: o, row: columns)
            for block in tiling.blocks(of: images) {
                for (slot, image) in block.images.enumerated() {
                    let xn = x + image &* c &* g.inPlane
                    for channel in 0..<c {
                        fillPadded(g, plane: xn + channel &* g.inPlane, padded: padded, tiling: tiling, rows: block.tileRows)
                        transformInput(padded, tiling: tiling, rows: block.tileRows, scratch: rowsStorage.base,
                                       v: v.base + (channel &* v.row &+ slot &* block.tilesPerImage), stride: v.point)
                    }
                }
                body(part, block, v, m)
            }
            withExtendedLifetime((vStorage, mStorage, paddedStorage, rowsStorage)) {}
        }
        if let chunks {
            parallelFor(chunks) { range in
                for chunk in range { run(chunk, ConvGEMM.images(chunk: chunk, of: chunks, batch: g.batch)) }
            }
        } else {
            parallelFor(g.batch) { images in run(images.lowerBound, images) }
        }
    }

    /// Kernels a weight transform stages at a time: the 36 rows of `U` are a multiple of 4 KB
    /// apart for many layer sizes, so writing (or reading) them one kernel at a time makes every
    /// access miss the same cache set; 16 kernels make each access a whole cache line.
    static let stagedKernels = 16

    /// Calls `body(stage, first, count)` for the kernels `first..<first + count` of `kernels`,
    /// ``stagedKernels`` at a time and in parallel, with a staging area of 36 rows of
    /// ``stagedKernels`` floats.
    static func forEachKernelGroup(_ kernels: Int,
                                   _ body: (_ stage: UnsafeMutablePointer<Float>, _ first: Int, _ count: Int) -> Void) {
        let n = stagedKernels
        parallelFor((kernels &+ n &- 1) / n, grain: 64) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: points &* n) { buffer in
                for group in range { body(buffer.baseAddress!, group &* n, Swift.min(n, kernels &- group &* n)) }
            }
        }
    }

    /// `U_ξ[o][c] = (G g_{o,c} Gᵀ)_ξ`, stored [36][O][C].
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, u: UnsafeMutablePointer<Float>) {
        let plane = o &* c, n = stagedKernels
        forEachKernelGroup(plane) { stage, first, count in
            for j in 0..<count {
                let k = w + (first &+ j) &* 9
                // Columns of G g (6 × 3), then each of its rows times Gᵀ.
                let c0 = kernelPoints(k[0], k[3], k[6]), c1 = kernelPoints(k[1], k[4], k[7]), c2 = kernelPoints(k[2], k[5], k[8])
                @inline(__always) func store(_ i: Int, _ row: Six<Float>) {
                    let base = stage + (6 &* i &* n &+ j)
                    base[0] = row.0; base[n] = row.1; base[2 &* n] = row.2
                    base[3 &* n] = row.3; base[4 &* n] = row.4; base[5 &* n] = row.5
                }
                store(0, kernelPoints(c0.0, c1.0, c2.0))
                store(1, kernelPoints(c0.1, c1.1, c2.1))
                store(2, kernelPoints(c0.2, c1.2, c2.2))
                store(3, kernelPoints(c0.3, c1.3, c2.3))
                store(4, kernelPoints(c0.4, c1.4, c2.4))
                store(5, kernelPoints(c0.5, c1.5, c2.5))
            }
            for xi in 0..<points { copyFloats(stage + xi &* n, to: u + (xi &* plane &+ first), count: count) }
        }
    }

    /// `dw[o][c] = Gᵀ dU_{o,c} G` with `dU = Σ_chunk dU_chunk` (summed in chunk order), the
    /// `chunks` partials stored [chunk][36][O][C].
    static func inverseTransformWeights(_ du: UnsafePointer<Float>, chunks: Int = 1, outChannels o: Int, inChannels c: Int,
                                        dw: UnsafeMutablePointer<Float>) {
        let plane = o &* c, n = stagedKernels, partialCount = points &* plane
        forEachKernelGroup(plane) { stage, first, count in
            for xi in 0..<points {
                copyFloats(du + (xi &* plane &+ first), to: stage + xi &* n, count: count)
                for chunk in 1..<Swift.max(chunks, 1) {
                    addFloats(du + (chunk &* partialCount &+ xi &* plane &+ first), to: stage + xi &* n, count: count)
                }
            }
            for j in 0..<count {
                @inline(__always) func column(_ i: Int) -> (Float, Float, Float) {
                    let base = stage + (i &* n &+ j), step = 6 &* n
                    return kernelGradient((base[0], base[step], base[2 &* step], base[3 &* step], base[4 &* step], base[5 &* step]))
                }
                // Columns of Gᵀ dU (3 × 6), then each of its rows times G.
                let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
                let k = dw + (first &+ j) &* 9
                (k[0], k[1], k[2]) = kernelGradient((c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
                (k[3], k[4], k[5]) = kernelGradient((c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
                (k[6], k[7], k[8]) = kernelGradient((c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
            }
        }
    }

    /// Six values: a row or column of a 6×6 transformed tile.
    typealias Six<T> = (T, T, T, T, T, T)

    /// `G·(g0, g1, g2)`.
    @inline(__always)
    static func kernelPoints(_ g0: Float, _ g1: Float, _ g2: Float) -> Six<Float> {
        let sixth: Float = 1 / 6, even = g0 + g2, a = g0 * (1 / 24) + g2 * sixth, b = g1 * (1 / 12)
        return (g0 * 0.25, -(even + g1) * sixth, (g1 - even) * sixth, a + b, a - b, g2)
    }

    /// `Gᵀ·u`.
    @inline(__always)
    static func kernelGradient(_ u: Six<Float>) -> (Float, Float, Float) {
        let sixth: Float = 1 / 6, s12 = u.1 + u.2, s34 = u.3 + u.4
        return (u.0 * 0.25 - s12 * sixth + s34 * (1 / 24), (u.2 - u.1) * sixth + (u.3 - u.4) * (1 / 12), (s34 - s12) * sixth + u.5)
    }

    /// `Bᵀ·d` (on rows or columns of patches, several at once).
    @inline(__always)
    static func inputPoints<V: SIMD>(_ d0: V, _ d1: V, _ d2: V, _ d3: V, _ d4: V, _ d5: V) -> Six<V> where V.Scalar == Float {
        let a = d4 - d2, b = d3 - d1
        return (4 * d0 - 5 * d2 + d4, (d3 + d4) - 4 * (d1 + d2), (d4 - d3) + 4 * (d1 - d2), a + 2 * b, a - 2 * b,
                4 * d1 - 5 * d3 + d5)
    }

    /// `Aᵀ·m`.
    @inline(__always)
    static func outputPoints<V: SIMD>(_ m: Six<V>) -> (V, V, V, V) where V.Scalar == Float {
        let a = m.1 + m.2, b = m.1 - m.2, c = m.3 + m.4, d = m.3 - m.4
        return (m.0 + a + c, b + 2 * d, a + 4 * c, b + 8 * d + m.5)
    }

    /// `A·dy` (a 4-row or column of an output gradient to its 6 points).
    @inline(__always)
    static func gradientPoints<V: SIMD>(_ y0: V, _ y1: V, _ y2: V, _ y3: V) -> Six<V> where V.Scalar == Float {
        let e = y0 + y2, f = y1 + y3, g = y0 + 4 * y2, h = 2 * y1 + 8 * y3
        return (y0, e + f, e - f, g + h, g - h, y3)
    }

    /// Columns 0…3 of 4 consecutive 4-wide groups at `p` (16 floats), one vector per column:
    /// `(p[j], p[4 + j], p[8 + j], p[12 + j])` for j = 0…3; with `half`, groups 2 and 3 are the
    /// 8 floats at `p + half`.
    @inline(__always)
    static func columns(_ p: UnsafePointer<Float>, half: Int = 8) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let a = load8(p), b = load8(p + half)
        let even = SIMD8(lowHalf: a.evenHalf, highHalf: b.evenHalf), odd = SIMD8(lowHalf: a.oddHalf, highHalf: b.oddHalf)
        return (even.evenHalf, odd.evenHalf, even.oddHalf, odd.oddHalf)
    }

    /// Copies the input rows that the tile rows `rows` read (padded rows `4·rows.lowerBound` to
    /// `4·rows.upperBound + 1`) into the interior of the zero-padded plane (the border, which
    /// the caller zeroed once, stays zero: the interior is the same region for every plane).
    @inline(__always)
    static func fillPadded(_ g: ConvGeometry, plane: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>,
                           tiling: Tiling, rows: Range<Int>) {
        let paddedWidth = tiling.paddedWidth
        // Padded row r, column q hold input row r − padH, column q − padW.
        let first = Swift.max(0, 4 &* rows.lowerBound &- g.padHeight)
        let end = Swift.min(g.height, 4 &* rows.upperBound &+ 2 &- g.padHeight)
        var r = first
        while r < end {
            copyFloats(plane + r &* g.width, to: padded + ((r &+ g.padHeight) &* paddedWidth &+ g.padWidth), count: g.width)
            r &+= 1
        }
    }

    /// Four values, one per tile of a group of 4 tiles (or per column of a 4-wide row).
    typealias Four = (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)

    /// Copies the first `count` (1…3) floats of each of the 36 rows `sourceStride` floats apart
    /// at `src` to rows `stride` floats apart at `dst`: a partial group of tiles, between the
    /// 4-wide scratch and a block. (Written out, so that the compiler does not turn each row
    /// into a call to `memmove`.)
    @inline(__always)
    static func copyLanes(_ src: UnsafePointer<Float>, sourceStride: Int, count: Int, to dst: UnsafeMutablePointer<Float>,
                          stride: Int) {
        for xi in 0..<points {
            let s = src + xi &* sourceStride, d = dst + xi &* stride
            d[0] = s[0]
            if count > 1 { d[1] = s[1] }
            if count > 2 { d[2] = s[2] }
        }
    }

    /// `V_ξ[tile] = (Bᵀ d B)_ξ` for every tile in the tile rows `rows` of one padded plane; `v`
    /// points at the first of those tiles in row ξ = 0, rows ξ are `stride` floats apart.
    /// Per tile row: `Bᵀ` down the columns of the 6 padded rows, 8 columns at a time, into
    /// `scratch` (6 rows of the padded width; 12 for two tile rows at once where a row holds two
    /// tiles), then `B` along each of those rows, 4 tiles at a time.
    @inline(__always)
    static func transformInput(_ p: UnsafePointer<Float>, tiling: Tiling, rows: Range<Int>, scratch t: UnsafeMutablePointer<Float>,
                               v: UnsafeMutablePointer<Float>, stride: Int) {
        let pw = tiling.paddedWidth, tilesX = tiling.tilesX, width = 4 &* tilesX &+ 2
        /// Tiles tx…tx + 3 of the scratch rows to 36 rows `step` floats apart at `out` (with
        /// `half`, tiles 2 and 3 are tiles tx, tx + 1 of the scratch rows `half` floats further).
        @inline(__always) func group(_ tx: Int, _ out: UnsafeMutablePointer<Float>, _ step: Int, half: Int = 8) {
            for i in 0..<6 {
                // Columns 0…5 of the 4 tiles (column 4 + j of a tile is column j of the next).
                let row = t + (i &* pw &+ 4 &* tx)
                let (c0, c1, c2, c3) = columns(row, half: half), (c4, c5, _, _) = columns(row + 4, half: half)
                let h = inputPoints(c0, c1, c2, c3, c4, c5)
                let base = out + (6 &* i) &* step
                store4(h.0, base); store4(h.1, base + step); store4(h.2, base + 2 &* step)
                store4(h.3, base + 3 &* step); store4(h.4, base + 4 &* step); store4(h.5, base + 5 &* step)
            }
        }
        /// `Bᵀ` down the columns of tile row `ty`'s 6 padded rows into the 6 scratch rows at `o`.
        @inline(__always) func firstPass(_ ty: Int, _ o: UnsafeMutablePointer<Float>) {
            let r = p + 4 &* ty &* pw
            var x = 0
            while x < width {
                let q = r + x
                let h = inputPoints(load8(q), load8(q + pw), load8(q + 2 &* pw), load8(q + 3 &* pw), load8(q + 4 &* pw),
                                    load8(q + 5 &* pw))
                store8(h.0, o + x); store8(h.1, o + (pw &+ x)); store8(h.2, o + (2 &* pw &+ x))
                store8(h.3, o + (3 &* pw &+ x)); store8(h.4, o + (4 &* pw &+ x)); store8(h.5, o + (5 &* pw &+ x))
                x &+= 8
            }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 &* points) { partial in
            var ty = rows.lowerBound
            if tilesX == 2 {
                // Two tiles per row: two tile rows make one group of 4 tiles, consecutive in `v`.
                while ty &+ 2 <= rows.upperBound {
                    firstPass(ty, t)
                    firstPass(ty &+ 1, t + 6 &* pw)
                    group(0, v + (ty &- rows.lowerBound) &* 2, stride, half: 6 &* pw)
                    ty &+= 2
                }
            }
            for ty in ty..<rows.upperBound {
                firstPass(ty, t)
                let out = v + (ty &- rows.lowerBound) &* tilesX
                var tx = 0
                while tx &+ 4 <= tilesX {
                    group(tx, out + tx, stride)
                    tx &+= 4
                }
                if tx < tilesX {
                    // The scratch rows are wide enough for a whole group; only its tiles are kept.
                    group(tx, partial.baseAddress!, 4)
                    copyLanes(partial.baseAddress!, sourceStride: 4, count: tilesX &- tx, to: out + tx, stride: stride)
                }
            }
        }
    }

    /// `Y = Aᵀ M A (+ bias)` for every tile in the tile rows `rows` of one output plane; `m`
    /// points at the first of those tiles in row ξ = 0, rows ξ are `stride` floats apart. Tiles
    /// past the plane's edge write only their rows and columns inside it.
    ///
    /// Per group of 4 tiles (lane t: tile t): `S = Aᵀ M` column by column into a scratch of
    /// 4 × 6 vectors, then each output row `S_q A` from it: 24 vectors held in registers would
    /// not fit the 16 SSE registers, and the compiler's spills of them cost more.
    @inline(__always)
    static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, tiling: Tiling, rows: Range<Int>, bias: Float,
                                g: ConvGeometry, plane: UnsafeMutablePointer<Float>) {
        let tilesX = tiling.tilesX, ho = g.outHeight, wo = g.outWidth
        let b4 = SIMD4<Float>(repeating: bias)
        /// Output row `y` of the group's 4 tiles as 16 consecutive columns at `d` (tiles 2 and 3
        /// at `high` when given).
        @inline(__always) func store(_ y: Four, _ d: UnsafeMutablePointer<Float>, _ high: UnsafeMutablePointer<Float>? = nil) {
            // Lane t of y.c is column c of tile t: transpose.
            let p = interleaved(y.0 + b4, y.2 + b4), s = interleaved(y.1 + b4, y.3 + b4)
            store8(interleaved(p.lowHalf, s.lowHalf), d)
            store8(interleaved(p.highHalf, s.highHalf), high ?? d + 8)
        }
        withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: points &+ 24) { scratch in
            let buffer = UnsafeMutableRawPointer(scratch.baseAddress!).assumingMemoryBound(to: Float.self)
            let sRows = scratch.baseAddress! + points
            /// `S = Aᵀ M` of the 4 tiles whose 36 points are `step` floats apart at `src`: row q
            /// of S at `sRows[6q…6q + 5]`.
            @inline(__always) func firstPass(_ src: UnsafePointer<Float>, _ step: Int) {
                for j in 0..<6 {
                    @inline(__always) func r(_ i: Int) -> SIMD4<Float> { load4(src + (6 &* i &+ j) &* step) }
                    let q = outputPoints((r(0), r(1), r(2), r(3), r(4), r(5)))
                    sRows[j] = q.0; sRows[6 &+ j] = q.1; sRows[12 &+ j] = q.2; sRows[18 &+ j] = q.3
                }
            }
            /// Output row q of the group: `S_q A`, vector c holding column c of each tile.
            @inline(__always) func row(_ q: Int) -> Four {
                let r = sRows + 6 &* q
                return outputPoints((r[0], r[1], r[2], r[3], r[4], r[5]))
            }
            var ty = rows.lowerBound
            if wo == 8 {
                // Two tiles per row (8-wide planes): the 4 tiles of two tile rows are consecutive
                // in `m` and make one group, whose rows go to two places.
                while ty &+ 2 <= rows.upperBound && 4 &* ty &+ 8 <= ho {
                    firstPass(m + (ty &- rows.lowerBound) &* 2, stride)
                    let d = plane + 4 &* ty &* 8
                    for q in 0..<4 { store(row(q), d + q &* 8, d + (4 &+ q) &* 8) }
                    ty &+= 2
                }
            }
            for ty in ty..<rows.upperBound {
                let src = m + (ty &- rows.lowerBound) &* tilesX
                let rowsInside = Swift.min(4, ho &- 4 &* ty)
                var tx = 0
                while tx < tilesX {
                    let count = Swift.min(4, tilesX &- tx)
                    if count == 4 {
                        firstPass(src + tx, stride)
                    } else {
                        clearFloats(buffer, count: 4 &* points)
                        copyLanes(src + tx, sourceStride: stride, count: count, to: buffer, stride: 4)
                        firstPass(buffer, 4)
                    }
                    let d = plane + (4 &* ty &* wo &+ 4 &* tx)
                    if 4 &* tx &+ 16 <= wo {
                        for q in 0..<rowsInside { store(row(q), d + q &* wo) }
                    } else {
                        // Through the scratch: the group's rows of 16 columns, then the part inside.
                        let columnsInside = wo &- 4 &* tx
                        for q in 0..<rowsInside {
                            store(row(q), buffer)
                            copyFloats(buffer, to: d + q &* wo, count: columnsInside)
                        }
                    }
                    tx &+= 4
                }
            }
        }
    }

    /// `M_ξ[tile] = (A dY Aᵀ)_ξ` for every tile in the tile rows `rows` of one output-gradient
    /// plane (`dY = 0` outside the plane). `m` points at the first of those tiles in row ξ = 0,
    /// rows ξ are `stride` floats apart.
    @inline(__always)
    static func transformOutputGradient(_ plane: UnsafePointer<Float>, g: ConvGeometry, tiling: Tiling, rows: Range<Int>,
                                        m: UnsafeMutablePointer<Float>, stride: Int) {
        let ho = g.outHeight, wo = g.outWidth, tilesX = tiling.tilesX
        /// The 36 points of the 4 tiles whose `dY` rows (16 columns each, or 8 and 8 at `half`)
        /// are `rowStep` floats apart at `src`, to rows `step` floats apart at `out`.
        @inline(__always) func group(_ src: UnsafePointer<Float>, _ rowStep: Int, _ out: UnsafeMutablePointer<Float>, _ step: Int,
                                     half: Int = 8) {
            @inline(__always) func row(_ q: Int) -> Six<SIMD4<Float>> {
                let (c0, c1, c2, c3) = columns(src + q &* rowStep, half: half)
                return gradientPoints(c0, c1, c2, c3)
            }
            // dY Aᵀ row by row (4 × 6), then A down each of its columns.
            let h0 = row(0), h1 = row(1), h2 = row(2), h3 = row(3)
            @inline(__always) func store(_ j: Int, _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>) {
                let q = gradientPoints(a, b, c, d), base = out + j &* step
                store4(q.0, base); store4(q.1, base + 6 &* step); store4(q.2, base + 12 &* step)
                store4(q.3, base + 18 &* step); store4(q.4, base + 24 &* step); store4(q.5, base + 30 &* step)
            }
            store(0, h0.0, h1.0, h2.0, h3.0); store(1, h0.1, h1.1, h2.1, h3.1); store(2, h0.2, h1.2, h2.2, h3.2)
            store(3, h0.3, h1.3, h2.3, h3.3); store(4, h0.4, h1.4, h2.4, h3.4); store(5, h0.5, h1.5, h2.5, h3.5)
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 64 &+ 4 &* points) { scratch in
            let rowsBuffer = scratch.baseAddress!, pointsBuffer = rowsBuffer + 64
            var ty = rows.lowerBound
            if wo == 8 {
                // Two tiles per row (8-wide planes): two tile rows make one group of 4 tiles,
                // consecutive in `m`, whose rows q are plane rows 4·ty + q and 4·ty + 4 + q.
                while ty &+ 2 <= rows.upperBound && 4 &* ty &+ 8 <= ho {
                    group(plane + 4 &* ty &* 8, 8, m + (ty &- rows.lowerBound) &* 2, stride, half: 32)
                    ty &+= 2
                }
            }
            for ty in ty..<rows.upperBound {
                let out = m + (ty &- rows.lowerBound) &* tilesX
                let first = plane + 4 &* ty &* wo, rowsInside = Swift.min(4, ho &- 4 &* ty)
                var tx = 0
                while tx < tilesX {
                    let count = Swift.min(4, tilesX &- tx)
                    if count == 4 && rowsInside == 4 && 4 &* tx &+ 16 <= wo {
                        group(first + 4 &* tx, wo, out + tx, stride)
                    } else {
                        // The part of the group's 4 × 16 block inside the plane, zeros elsewhere.
                        clearFloats(rowsBuffer, count: 64)
                        let columnsInside = Swift.min(16, wo &- 4 &* tx)
                        for q in 0..<rowsInside {
                            copyFloats(first + (q &* wo &+ 4 &* tx), to: rowsBuffer + 16 &* q, count: columnsInside)
                        }
                        if count == 4 {
                            group(rowsBuffer, 16, out + tx, stride)
                        } else {
                            group(rowsBuffer, 16, pointsBuffer, 4)
                            copyLanes(pointsBuffer, sourceStride: 4, count: count, to: out + tx, stride: stride)
                        }
                    }
                    tx &+= 4
                }
            }
        }
    }
}
