/// im2col and col2im of strided, undilated convolutions through the input's polyphase planes.
///
/// With stride `s` and padding `p`, kernel row `u` reads input row `y = s·i + u − p`, which is
/// row `i + q_u` of phase `a_u` of the input, where `u − p = s·q_u + a_u` (`0 ≤ a_u < s`). Each
/// input plane is split once into its `s_h·s_w` phase planes
///
///     P_ab[r, t] = x[s_h·(r + q_min) + a, s_w·(t + q'_min) + b]     (0 outside the input)
///
/// with `q_min = ⌊−p/s⌋` so that every tap's rows and columns exist. A column-matrix row
/// `(c, u, v)` is then `W'` contiguous floats of `P_{a_u b_v}` per output row, copied with
/// vector moves instead of gathered every `s`-th float; col2im adds into the phase planes the
/// same way, and merging them back writes every input-gradient element exactly once (0 for
/// the ones no tap reads). For stride 2 the split and the merge are vectorised.
struct ConvPolyphase {
    let g: ConvGeometry
    /// `q_min` of the rows and of the columns (≤ 0).
    let firstRow, firstColumn: Int
    let planeHeight, planeWidth: Int

    /// Strided (in either direction) and undilated.
    static func supports(_ g: ConvGeometry) -> Bool {
        (g.strideHeight > 1 || g.strideWidth > 1) && g.dilationHeight == 1 && g.dilationWidth == 1
    }

    init(_ g: ConvGeometry) {
        precondition(Self.supports(g), "ConvPolyphase: needs a strided, undilated convolution")
        self.g = g
        firstRow = Self.floorDivision(-g.padHeight, g.strideHeight)
        firstColumn = Self.floorDivision(-g.padWidth, g.strideWidth)
        planeHeight = g.outHeight &+ Self.floorDivision(g.kernelHeight &- 1 &- g.padHeight, g.strideHeight) &- firstRow
        planeWidth = g.outWidth &+ Self.floorDivision(g.kernelWidth &- 1 &- g.padWidth, g.strideWidth) &- firstColumn
    }

    var planeFloats: Int { planeHeight &* planeWidth }
    /// Floats of the phase planes of one input channel.
    var channelFloats: Int { g.strideHeight &* g.strideWidth &* planeFloats }
    /// Floats of the phase planes of the `C/groups` channels of one image and group.
    var floats: Int { g.inPerGroup &* channelFloats }

    /// Input rows and columns that have a place in the phase planes: the others are read by no
    /// tap.
    var placedRows: Int { Swift.min(g.height, g.strideHeight &* (planeHeight &+ firstRow)) }
    var placedColumns: Int { Swift.min(g.width, g.strideWidth &* (planeWidth &+ firstColumn)) }

    @inline(__always)
    static func floorDivision(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((b &- 1 &- a) / b) }

    /// The phase and the phase-plane offset of kernel tap `u` along one axis.
    @inline(__always)
    static func phase(tap u: Int, padding: Int, stride: Int, first: Int) -> (phase: Int, offset: Int) {
        let q = floorDivision(u &- padding, stride)
        return (u &- padding &- q &* stride, q &- first)
    }

    /// Writes the values of the `C/groups` input planes at `x` into their places in the phase
    /// planes at `phases` (``floats``), reading the input in memory order. The places no input
    /// value maps to (the padding) are not written: they are the same for every image, so the
    /// caller zeroes the buffer once and splits any number of images into it.
    func split(_ x: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>) {
        let sh = g.strideHeight, sw = g.strideWidth, w = g.width, rows = placedRows, columns = placedColumns
        for c in 0..<g.inPerGroup {
            let plane = x + c &* g.inPlane, out = phases + c &* channelFloats
            for y in 0..<rows {
                let row = plane + y &* w
                let phaseRow = out + ((y % sh) &* sw &* planeFloats &+ (y / sh &- firstRow) &* planeWidth)
                var column = 0
                if sw == 2 {
                    // 16 (8) columns: the even ones to phase 0, the odd ones to phase 1.
                    while column &+ 16 <= columns {
                        let lo = load8(row + column), hi = load8(row + (column &+ 8)), t = column / 2 &- firstColumn
                        store8(SIMD8(lowHalf: lo.evenHalf, highHalf: hi.evenHalf), phaseRow + t)
                        store8(SIMD8(lowHalf: lo.oddHalf, highHalf: hi.oddHalf), phaseRow + (planeFloats &+ t))
                        column &+= 16
                    }
                    if column &+ 8 <= columns {
                        let v = load8(row + column), t = column / 2 &- firstColumn
                        store4(v.evenHalf, phaseRow + t)
                        store4(v.oddHalf, phaseRow + (planeFloats &+ t))
                        column &+= 8
                    }
                }
                while column < columns {
                    phaseRow[(column % sw) &* planeFloats &+ column / sw &- firstColumn] = row[column]
                    column &+= 1
                }
            }
        }
    }

    /// Writes the column matrix of all output rows from the phase planes: row `(c, u, v)` at
    /// `col + row·rowStride`, output row `i` at `+ i·W'`.
    func columns(from phases: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>, rowStride: Int) {
        if g.outWidth == 4 {
            // 4-wide output rows (a 4×4 or 4×n output): one vector per row, no length tests.
            forEachTap { channelPlane, row in
                let dst = col + row &* rowStride
                var src = phases + channelPlane
                for i in 0..<g.outHeight {
                    store4(load4(src), dst + i &* 4)
                    src += planeWidth
                }
            }
            return
        }
        forEachTap { channelPlane, row in
            let dst = col + row &* rowStride
            for i in 0..<g.outHeight {
                copyFloats(phases + (channelPlane &+ i &* planeWidth), to: dst + i &* g.outWidth, count: g.outWidth)
            }
        }
    }

    /// Adds the column matrix (laid out as in ``columns``) onto the phase planes.
    func addColumns(_ col: UnsafePointer<Float>, rowStride: Int, into phases: UnsafeMutablePointer<Float>) {
        forEachTap { channelPlane, row in
            let src = col + row &* rowStride
            for i in 0..<g.outHeight {
                addFloats(src + i &* g.outWidth, to: phases + (channelPlane &+ i &* planeWidth), count: g.outWidth)
            }
        }
    }

    /// The offset within one channel's phase planes of the element kernel tap `t = u·kW + v`
    /// reads for output `(0, 0)`; output `(i, j)` reads `planeWidth·i + j` further on.
    func tapOffset(_ t: Int) -> Int {
        let (a, rowOffset) = Self.phase(tap: t / g.kernelWidth, padding: g.padHeight, stride: g.strideHeight, first: firstRow)
        let (b, columnOffset) = Self.phase(tap: t % g.kernelWidth, padding: g.padWidth, stride: g.strideWidth, first: firstColumn)
        return (a &* g.strideWidth &+ b) &* planeFloats &+ rowOffset &* planeWidth &+ columnOffset
    }

    /// Calls `body(offset, row)` for every column-matrix row `(c, u, v)` with the offset in the
    /// phase planes of its tap's first element. The taps' offsets within a channel's planes are
    /// worked out once (each takes two divisions), not once per channel.
    @inline(__always)
    private func forEachTap(_ body: (Int, Int) -> Void) {
        let taps = g.kernelArea
        withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { offsets in
            for t in 0..<taps { offsets[t] = tapOffset(t) }
            var row = 0
            for c in 0..<g.inPerGroup {
                let channel = c &* channelFloats
                for t in 0..<taps {
                    body(channel &+ offsets[t], row)
                    row &+= 1
                }
            }
        }
    }

    /// Writes every element of the `C/groups` planes at `dx` from the phase planes (the inverse
    /// of ``split`` where a tap reads the input, 0 elsewhere).
    func merge(_ phases: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        let sh = g.strideHeight, sw = g.strideWidth, w = g.width, rows = placedRows, covered = placedColumns
        for c in 0..<g.inPerGroup {
            let plane = dx + c &* g.inPlane, source = phases + c &* channelFloats
            for y in 0..<g.height {
                let row = plane + y &* w
                guard y < rows else {
                    row.update(repeating: 0, count: w)
                    continue
                }
                let phaseRow = source + ((y % sh) &* sw &* planeFloats &+ (y / sh &- firstRow) &* planeWidth)
                var x = 0
                if sw == 2 {
                    // 16 columns from 8 of each phase, interleaved.
                    while x &+ 16 <= covered {
                        let even = load8(phaseRow + (x / 2 &- firstColumn))
                        let odd = load8(phaseRow + (planeFloats &+ x / 2 &- firstColumn))
                        store8(interleaved(even.lowHalf, odd.lowHalf), row + x)
                        store8(interleaved(even.highHalf, odd.highHalf), row + (x &+ 8))
                        x &+= 16
                    }
                    if x &+ 8 <= covered {
                        store8(interleaved(load4(phaseRow + (x / 2 &- firstColumn)),
                                           load4(phaseRow + (planeFloats &+ x / 2 &- firstColumn))), row + x)
                        x &+= 8
                    }
                }
                while x < covered {
                    row[x] = phaseRow[(x % sw) &* planeFloats &+ x / sw &- firstColumn]
                    x &+= 1
                }
                if covered < w { (row + covered).update(repeating: 0, count: w &- covered) }
            }
        }
    }
}
