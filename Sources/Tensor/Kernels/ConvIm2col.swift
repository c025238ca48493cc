#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// im2col and its adjoint col2im for one image and one group.
///
/// The column matrix has `C/groups · kH · kW` rows (channel-major, then kernel row and column)
/// and `H' · W'` columns; row `(c, u, v)` holds `x[c, i·s + u·d − p, j·s + v·d − p]` (0 outside).
enum ConvIm2col {
    /// Writes the column matrix of the `C/groups` planes at `x` into `col`.
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth, h = g.height, w = g.width
        let sh = g.strideHeight, sw = g.strideWidth
        var row = 0
        for c in 0..<g.inPerGroup {
            let plane = x + c &* g.inPlane
            for u in 0..<g.kernelHeight {
                let offsetY = u &* g.dilationHeight &- g.padHeight
                for v in 0..<g.kernelWidth {
                    let offsetX = v &* g.dilationWidth &- g.padWidth
                    let (lo, hi) = g.validColumns(offset: offsetX)
                    let dst = col + row &* g.outPlane
                    for i in 0..<ho {
                        let d = dst + i &* wo
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

    /// Adds the column matrix `col` back onto the `C/groups` planes at `dx` (which the caller
    /// has initialised).
    static func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth, h = g.height, w = g.width
        let sh = g.strideHeight, sw = g.strideWidth
        var row = 0
        for c in 0..<g.inPerGroup {
            let plane = dx + c &* g.inPlane
            for u in 0..<g.kernelHeight {
                let offsetY = u &* g.dilationHeight &- g.padHeight
                for v in 0..<g.kernelWidth {
                    let offsetX = v &* g.dilationWidth &- g.padWidth
                    let (lo, hi) = g.validColumns(offset: offsetX)
                    let src = col + row &* g.outPlane
                    row &+= 1
                    guard lo <= hi else { continue }
                    for i in 0..<ho {
                        let y = i &* sh &+ offsetY
                        if y < 0 || y >= h { continue }
                        let s = src + i &* wo
                        let d = plane + (y &* w &+ offsetX)
                        var j = lo
                        if sw == 1 {
                            while j <= hi { d[j] += s[j]; j &+= 1 }
                        } else {
                            while j <= hi { d[j &* sw] += s[j]; j &+= 1 }
                        }
                    }
                }
            }
        }
    }
}
