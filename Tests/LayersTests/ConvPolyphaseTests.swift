import Testing
@testable import Tensor

/// The polyphase column matrix and its adjoint against the direct gather and scatter of
/// `ConvIm2col` (which `convMatchesNaiveReference` checks): both copy and add the same floats in
/// the same order, so they agree exactly.
struct PolyphaseCase: CustomStringConvertible, Sendable {
    var c: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Size2D, padding: Size2D
    var description: String { "x[\(c),\(h),\(w)] k\(kh)×\(kw) s\(stride) p\(padding)" }
}

let polyphaseCases: [PolyphaseCase] = [
    PolyphaseCase(c: 3, h: 32, w: 32, kh: 3, kw: 3, stride: 2, padding: 1),            // TinyResNet: 8-wide vector split and merge
    PolyphaseCase(c: 2, h: 8, w: 8, kh: 3, kw: 3, stride: 2, padding: 1),              // 4×4 output: 4-wide split, 8-wide merge
    PolyphaseCase(c: 2, h: 13, w: 7, kh: 3, kw: 3, stride: 2, padding: 1),             // 7×4 output: 4-wide column rows
    PolyphaseCase(c: 2, h: 47, w: 55, kh: 3, kw: 3, stride: 2, padding: 1),            // odd sizes, vector and scalar edges
    PolyphaseCase(c: 2, h: 9, w: 17, kh: 2, kw: 2, stride: 2, padding: 0),             // last row and column read by no tap
    PolyphaseCase(c: 1, h: 7, w: 6, kh: 1, kw: 1, stride: 2, padding: 0),              // 1×1 shortcut
    PolyphaseCase(c: 2, h: 13, w: 16, kh: 5, kw: 5, stride: 3, padding: 2),            // stride 3
    PolyphaseCase(c: 2, h: 11, w: 40, kh: 3, kw: 2, stride: Size2D(2, 1), padding: Size2D(1, 0)), // strided rows only
    PolyphaseCase(c: 2, h: 6, w: 23, kh: 2, kw: 3, stride: Size2D(1, 3), padding: Size2D(0, 1)),  // strided columns only
    PolyphaseCase(c: 2, h: 5, w: 7, kh: 3, kw: 3, stride: 2, padding: 3),              // padding larger than the kernel
    PolyphaseCase(c: 1, h: 3, w: 3, kh: 3, kw: 3, stride: 2, padding: 0),              // a 1×1 output
]

@Test(arguments: polyphaseCases)
func polyphaseColumnsMatchIm2col(_ k: PolyphaseCase) {
    var rng = RandomGenerator(seed: 21)
    let g = ConvGeometry(input: [1, k.c, k.h, k.w], weight: [4, k.c, k.kh, k.kw], bias: nil, stride: k.stride,
                         padding: k.padding, dilation: 1, groups: 1)
    #expect(ConvPolyphase.supports(g))
    let polyphase = ConvPolyphase(g)
    let columns = g.patch * g.outPlane
    // Two images split into the same zeroed buffer, one after the other: the second overwrites
    // every place the first wrote, and the padding stays zero.
    var phases = [Float](repeating: 0, count: polyphase.floats)
    for _ in 0..<2 {
        let x = Tensor.randomNormal(g.inputShape, using: &rng).scalars
        var direct = [Float](repeating: .nan, count: columns), viaPhases = direct
        x.withUnsafeBufferPointer { x in
            ConvIm2col.im2col(g, rows: 0..<g.outHeight, x: x.baseAddress!, col: &direct)
            polyphase.split(x.baseAddress!, into: &phases)
        }
        polyphase.columns(from: phases, into: &viaPhases, rowStride: g.outPlane)
        #expect(viaPhases == direct, "\(k): column matrix")
    }

    // The adjoint: merge(addColumns(col)) = col2im(col) into zeros, including zeros where no tap reads.
    let col = Tensor.randomNormal([columns], using: &rng).scalars
    var scattered = [Float](repeating: 0, count: k.c * k.h * k.w)
    var merged = [Float](repeating: .nan, count: scattered.count)
    col.withUnsafeBufferPointer { col in
        ConvIm2col.col2im(g, rows: 0..<g.outHeight, col: col.baseAddress!, dx: &scattered)
        phases = [Float](repeating: 0, count: polyphase.floats)
        polyphase.addColumns(col.baseAddress!, rowStride: g.outPlane, into: &phases)
    }
    polyphase.merge(phases, into: &merged)
    #expect(merged == scattered, "\(k): input gradient")
}

@Test func polyphaseNeedsStridedUndilatedConvolutions() {
    let strided = ConvGeometry(input: [1, 2, 8, 8], weight: [2, 2, 3, 3], bias: nil, stride: 2, padding: 1, dilation: 1, groups: 1)
    let unstrided = ConvGeometry(input: [1, 2, 8, 8], weight: [2, 2, 3, 3], bias: nil, stride: 1, padding: 1, dilation: 1, groups: 1)
    let dilated = ConvGeometry(input: [1, 2, 8, 8], weight: [2, 2, 3, 3], bias: nil, stride: 2, padding: 2, dilation: 2, groups: 1)
    #expect(ConvPolyphase.supports(strided) && !ConvPolyphase.supports(unstrided) && !ConvPolyphase.supports(dilated))
    let p = ConvPolyphase(strided)  // 3×3 s2 p1 on 8×8: taps reach phase rows −1 … 3
    #expect(p.firstRow == -1 && p.firstColumn == -1 && p.planeHeight == 5 && p.planeWidth == 5 && p.floats == 2 * 4 * 25)
}

/// Which strided convolutions run one GEMM per tap (`phaseTapCases`, checked against the naive
/// reference in `convMatchesNaiveReference`), and how their rows are cut into GEMMs.
@Test func phaseTapsTakeWideStridedConvolutions() {
    func geometry(c: Int, h: Int, w: Int, k: Int, stride: Size2D, padding: Size2D, groups: Int = 1, o: Int = 8) -> ConvGeometry {
        ConvGeometry(input: [2, c, h, w], weight: [o, c / groups, k, k], bias: nil, stride: stride, padding: padding, dilation: 1,
                     groups: groups)
    }
    for k in phaseTapCases {
        let g = ConvGeometry(input: [k.n, k.c, k.h, k.w], weight: [k.o, k.c, k.kh, k.kw], bias: nil, stride: k.stride,
                             padding: k.padding, dilation: k.dilation, groups: k.groups)
        #expect(ConvPhaseTaps.supports(g), "\(k)")
    }
    #expect(!ConvPhaseTaps.supports(geometry(c: 16, h: 16, w: 16, k: 3, stride: 2, padding: 1)))   // 8 wide: 1 column in 9 dropped
    #expect(!ConvPhaseTaps.supports(geometry(c: 8, h: 32, w: 32, k: 3, stride: 2, padding: 1)))    // too few channels
    #expect(!ConvPhaseTaps.supports(geometry(c: 64, h: 32, w: 32, k: 1, stride: 2, padding: 0)))   // 1×1: one column gather is cheaper
    #expect(!ConvPhaseTaps.supports(geometry(c: 32, h: 32, w: 32, k: 3, stride: 2, padding: 1, groups: 2)))
    #expect(!ConvPhaseTaps.supports(geometry(c: 32, h: 32, w: 32, k: 3, stride: 1, padding: 1)))   // not strided

    // Bands cover the output rows in order; on small-matrix cores each fits those kernels.
    for (c, o, h) in [(64, 64, 32), (16, 8, 32), (128, 128, 64), (512, 512, 64)] {
        let g = geometry(c: c, h: h, w: h, k: 3, stride: 2, padding: 1, o: o)
        let wideWidth = ConvPolyphase(g).planeWidth
        let bands = ConvPhaseTaps.bands(g, wideWidth: wideWidth)
        #expect(bands.first?.lowerBound == 0 && bands.last?.upperBound == g.outHeight, "c\(c) o\(o): \(bands)")
        #expect(zip(bands, bands.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$1.isEmpty }, "c\(c) o\(o): \(bands)")
        let rowWork = o * c * wideWidth
        if BLAS.hasSmallMatrixKernels && rowWork <= BLAS.smallProductWork {
            #expect(bands.allSatisfy { $0.count * rowWork <= BLAS.smallProductWork }, "c\(c) o\(o): \(bands)")
        } else {
            #expect(bands == [0..<g.outHeight], "c\(c) o\(o): \(bands)")
        }
    }
}
