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
/// per thread, as in ``ConvGEMM``; a chunk transforms a block of whole images at a time.
enum ConvWinograd {
    /// Whether `g` is a convolution this kernel computes: 3×3, stride 1, undilated, ungrouped,
    /// and wide enough that the GEMMs dominate the transforms.
    static func supports(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && g.groups == 1
            && g.inChannels >= 16 && g.outChannels >= 16
    }

    /// Floats of the transformed input and output blocks of one thread (about 8 MB).
    static let blockFloats = 1 << 21

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, o = g.outChannels
        let tilesY = (g.outHeight &+ 1) / 2, tilesX = (g.outWidth &+ 1) / 2, tiles = tilesY &* tilesX
        // U_ξ = (G g Gᵀ)_ξ, stored [16][O][C].
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 &* o &* c)
        defer { u.deallocate() }
        transformWeights(w, outChannels: o, inChannels: c, u: u)

        let chunks = ConvGEMM.chunkCount(g)
        let imagesPerBlock = Swift.max(1, blockFloats / Swift.max(16 &* (c &+ o) &* tiles, 1))
        // The zero-padded input plane every tile reads from: rows 2·tilesY + 2, columns
        // 2·tilesX + 2 (+ 16 so that vector loads of the last tiles stay inside).
        let paddedHeight = 2 &* tilesY &+ 2, paddedWidth = 2 &* tilesX &+ 2 &+ 16
        parallelFor(chunks) { range in
            for chunk in range {
                let images = ConvGEMM.images(chunk: chunk, of: chunks, batch: g.batch)
                let block = Swift.min(imagesPerBlock, images.count)
                let columns = block &* tiles
                // Scratch from the buffer pool: a steady-state step faults no fresh pages in.
                let vStorage = TensorStorage(count: 16 &* c &* columns), mStorage = TensorStorage(count: 16 &* o &* columns)
                let paddedStorage = TensorStorage(count: paddedHeight &* paddedWidth)
                let v = vStorage.base, m = mStorage.base, padded = paddedStorage.base
                padded.update(repeating: 0, count: paddedHeight &* paddedWidth)
                var first = images.lowerBound
                while first < images.upperBound {
                    let count = Swift.min(block, images.upperBound &- first)
                    let t = count &* tiles
                    for image in 0..<count {
                        let xn = x + (first &+ image) &* c &* g.inPlane
                        for channel in 0..<c {
                            fillPadded(g, plane: xn + channel &* g.inPlane, padded: padded, paddedHeight: paddedHeight,
                                       paddedWidth: paddedWidth)
                            transformInput(padded, paddedWidth: paddedWidth, tilesY: tilesY, tilesX: tilesX,
                                           v: v + (channel &* columns &+ image &* tiles), stride: c &* columns)
                        }
                    }
                    for xi in 0..<16 {
                        BLAS.sgemm(transposeA: false, transposeB: false, m: o, n: t, k: c, a: u + xi &* o &* c, lda: c,
                                   b: v + xi &* c &* columns, ldb: columns, c: m + xi &* o &* columns, ldc: columns)
                    }
                    for image in 0..<count {
                        let yn = y + (first &+ image) &* o &* g.outPlane
                        for channel in 0..<o {
                            transformOutput(m + (channel &* columns &+ image &* tiles), stride: o &* columns, tilesY: tilesY,
                                            tilesX: tilesX, bias: bias?[channel] ?? 0, g: g, plane: yn + channel &* g.outPlane)
                        }
                    }
                    first &+= count
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

    /// Copies one input plane into the interior of the zero-padded plane (the border, which
    /// the caller zeroed once, stays zero: the interior is the same region for every plane).
    @inline(__always)
    static func fillPadded(_ g: ConvGeometry, plane: UnsafePointer<Float>, padded: UnsafeMutablePointer<Float>,
                           paddedHeight: Int, paddedWidth: Int) {
        // Padded row r, column q hold input row r − padH, column q − padW.
        let rows = Swift.min(g.height, paddedHeight &- g.padHeight)
        let width = Swift.min(g.width, paddedWidth &- g.padWidth)
        for r in 0..<rows {
            memcpy(padded + ((r &+ g.padHeight) &* paddedWidth &+ g.padWidth), plane + r &* g.width, width &* 4)
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

    /// `V_ξ[tile] = (Bᵀ d B)_ξ` for every tile of one padded plane; `v` points at the plane's
    /// first tile in row ξ = 0, rows ξ are `stride` floats apart.
    @inline(__always)
    static func transformInput(_ p: UnsafePointer<Float>, paddedWidth: Int, tilesY: Int, tilesX: Int,
                               v: UnsafeMutablePointer<Float>, stride: Int) {
        for ty in 0..<tilesY {
            let r0 = p + 2 &* ty &* paddedWidth, r1 = r0 + paddedWidth, r2 = r1 + paddedWidth, r3 = r2 + paddedWidth
            let out = v + ty &* tilesX
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

    /// `Y = Aᵀ M A (+ bias)` for every tile of one output plane; `m` points at the plane's
    /// first tile in row ξ = 0, rows ξ are `stride` floats apart. Tiles past an odd edge write
    /// only their rows and columns inside the plane.
    @inline(__always)
    static func transformOutput(_ m: UnsafePointer<Float>, stride: Int, tilesY: Int, tilesX: Int, bias: Float,
                                g: ConvGeometry, plane: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth
        let b4 = SIMD4<Float>(repeating: bias)
        for ty in 0..<tilesY {
            let row0 = plane + 2 &* ty &* wo
            let hasSecondRow = 2 &* ty &+ 1 < ho
            let src = m + ty &* tilesX
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
}
