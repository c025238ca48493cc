#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// im2col and its adjoint col2im for one image, one group and a band of output rows.
///
/// The column matrix has `C/groups · kH · kW` rows (channel-major, then kernel row and column)
/// and one column per output position of the band `rows` (`rows.count · W'` columns); row
/// `(c, u, v)` holds `x[c, i·s + u·d − p, j·s + v·d − p]` (0 outside). Bands keep the matrix
/// small enough to stay in cache between im2col and the GEMM that reads it. Rows of the matrix
/// are `rowStride` floats apart (default: exactly the band's columns), so that the matrices of
/// several images can stand side by side in one wider matrix.
enum ConvIm2col {
    /// Writes the column matrix of the `C/groups` planes at `x` for output rows `rows` into `col`.
    static func im2col(_ g: ConvGeometry, rows: Range<Int>, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>,
                       rowStride: Int? = nil) {
        let wo = g.outWidth, h = g.height, w = g.width, columns = rowStride ?? rows.count &* wo
        let sh = g.strideHeight, sw = g.strideWidth
        var row = 0
        for c in 0..<g.inPerGroup {
            let plane = x + c &* g.inPlane
            for u in 0..<g.kernelHeight {
                let offsetY = u &* g.dilationHeight &- g.padHeight
                for v in 0..<g.kernelWidth {
                    let offsetX = v &* g.dilationWidth &- g.padWidth
                    let (lo, hi) = g.validColumns(offset: offsetX)
                    let dst = col + row &* columns
                    for i in rows {
                        let d = dst + (i &- rows.lowerBound) &* wo
                        let y = i &* sh &+ offsetY
                        if y < 0 || y >= h || lo > hi {
                            d.update(repeating: 0, count: wo)
                            continue
                        }
                        if lo > 0 { d.update(repeating: 0, count: lo) }
                        if hi < wo &- 1 { (d + (hi &+ 1)).update(repeating: 0, count: wo &- 1 &- hi) }
                        let src = plane + (y &* w &+ offsetX)
                        if sw == 1 {
                            memcpy(d + lo, src + lo, (hi &- lo &+ 1) &* 4)
                        } else if sw == 2 {
                            // The loads stay at or before column 2·hi.
                            copyAlternateFloats(src + 2 &* lo, phase: 0, to: d + lo, count: hi &- lo &+ 1, readable: 2 &* (hi &- lo) &+ 1)
                        } else {
                            var j = lo
                            while j <= hi { d[j] = src[j &* sw]; j &+= 1 }
                        }
                    }
                    row &+= 1
                }
            }
        }
    }

    /// Adds the column matrix `col` of output rows `rows` back onto the `C/groups` planes at
    /// `dx` (which the caller has initialised).
    static func col2im(_ g: ConvGeometry, rows: Range<Int>, col: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                       rowStride: Int? = nil) {
        let wo = g.outWidth, h = g.height, w = g.width, columns = rowStride ?? rows.count &* wo
        let sh = g.strideHeight, sw = g.strideWidth
        var row = 0
        for c in 0..<g.inPerGroup {
            let plane = dx + c &* g.inPlane
            for u in 0..<g.kernelHeight {
                let offsetY = u &* g.dilationHeight &- g.padHeight
                for v in 0..<g.kernelWidth {
                    let offsetX = v &* g.dilationWidth &- g.padWidth
                    let (lo, hi) = g.validColumns(offset: offsetX)
                    let src = col + row &* columns
                    row &+= 1
                    guard lo <= hi else { continue }
                    for i in rows {
                        let y = i &* sh &+ offsetY
                        if y < 0 || y >= h { continue }
                        let s = src + (i &- rows.lowerBound) &* wo
                        let d = plane + (y &* w &+ offsetX)
                        var j = lo
                        if sw == 1 {
                            while j <= hi { d[j] += s[j]; j &+= 1 }
                        } else {
                            if sw == 2 {
                                // 4 even columns at a time (the odd ones between get + 0); the
                                // stores stay at or before column 2·hi.
                                while j &+ 4 <= hi {
                                    store8(load8(d + 2 &* j) + interleaved(load4(s + j), SIMD4()), d + 2 &* j)
                                    j &+= 4
                                }
                            }
                            while j <= hi { d[j &* sw] += s[j]; j &+= 1 }
                        }
                    }
                }
            }
        }
    }
}
