// Unaligned vector loads and stores of floats: the kernels' hot loops read and write memory
// through these (the `SIMD` types lower to SSE pairs without per-function CPU targets).

@inlinable @inline(__always)
package func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inlinable @inline(__always)
package func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

@inlinable @inline(__always)
package func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inlinable @inline(__always)
package func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// `(a0, b0, a1, b1, a2, b2, a3, b3)`.
@inlinable @inline(__always)
package func interleaved(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD8<Float> {
    SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
}

/// Copies `count` floats: for short rows (a plane row, part of a tile group), where a call to
/// `memcpy` costs more than the copy.
@inlinable @inline(__always)
package func copyFloats(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
        store8(load8(src + i), dst + i)
        i &+= 8
    }
    if i &+ 4 <= count {
        store4(load4(src + i), dst + i)
        i &+= 4
    }
    while i < count {
        dst[i] = src[i]
        i &+= 1
    }
}

/// `dst[i] = src[2·i + phase]` for `count` floats (`phase` 0: the even floats at `src`, 1: the
/// odd ones), 8 (4) at a time while the vector loads stay within the first `readable` floats at
/// `src`, then one by one.
@inlinable @inline(__always)
package func copyAlternateFloats(_ src: UnsafePointer<Float>, phase: Int, to dst: UnsafeMutablePointer<Float>, count: Int,
                                 readable: Int) {
    @inline(__always) func half(_ v: SIMD8<Float>) -> SIMD4<Float> { phase == 0 ? v.evenHalf : v.oddHalf }
    var i = 0
    while i &+ 8 <= count && 2 &* i &+ 16 <= readable {
        store8(SIMD8(lowHalf: half(load8(src + 2 &* i)), highHalf: half(load8(src + (2 &* i &+ 8)))), dst + i)
        i &+= 8
    }
    while i &+ 4 <= count && 2 &* i &+ 8 <= readable {
        store4(half(load8(src + 2 &* i)), dst + i)
        i &+= 4
    }
    while i < count {
        dst[i] = src[2 &* i &+ phase]
        i &+= 1
    }
}

/// `dst[i] += src[i]` for `count` floats (short rows, as ``copyFloats``).
@inlinable @inline(__always)
package func addFloats(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
        store8(load8(dst + i) + load8(src + i), dst + i)
        i &+= 8
    }
    if i &+ 4 <= count {
        store4(load4(dst + i) + load4(src + i), dst + i)
        i &+= 4
    }
    while i < count {
        dst[i] += src[i]
        i &+= 1
    }
}

/// Sets `count` floats to zero (short runs, as ``copyFloats``).
@inlinable @inline(__always)
package func clearFloats(_ p: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
        store8(SIMD8(), p + i)
        i &+= 8
    }
    if i &+ 4 <= count {
        store4(SIMD4(), p + i)
        i &+= 4
    }
    while i < count {
        p[i] = 0
        i &+= 1
    }
}
