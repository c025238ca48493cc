import Testing
@testable import Tensor
@testable import Layers

/// One convolution configuration: input [n, c, h, w], weight [o, c/groups, kh, kw].
struct ConvCase: CustomStringConvertible, Sendable {
    var n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int
    var stride: Size2D, padding: Size2D, dilation: Size2D, groups: Int, bias: Bool
    init(n: Int = 2, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int, stride: Size2D = 1, padding: Size2D = 0,
         dilation: Size2D = 1, groups: Int = 1, bias: Bool = true) {
        (self.n, self.c, self.h, self.w, self.o, self.kh, self.kw) = (n, c, h, w, o, kh, kw)
        (self.stride, self.padding, self.dilation, self.groups, self.bias) = (stride, padding, dilation, groups, bias)
    }
    var description: String { "x[\(n),\(c),\(h),\(w)] w[\(o),\(c / groups),\(kh),\(kw)] s\(stride) p\(padding) d\(dilation) g\(groups)" }
}

/// The zoo's convolutions (MobileFaceNet, IResNet, TinyResNet, LeNet) at tiny sizes, plus odd ones.
let convCases: [ConvCase] = [
    ConvCase(c: 3, h: 7, w: 6, o: 4, kh: 3, kw: 3, padding: 1),                          // 3x3 s1 p1
    ConvCase(c: 3, h: 9, w: 8, o: 5, kh: 3, kw: 3, stride: 2, padding: 1, bias: false),  // stem 3x3 s2 p1
    ConvCase(c: 4, h: 5, w: 5, o: 6, kh: 1, kw: 1, bias: false),                         // pointwise 1x1
    ConvCase(c: 4, h: 7, w: 6, o: 3, kh: 1, kw: 1, stride: 2),                           // 1x1 s2 shortcut
    ConvCase(c: 6, h: 11, w: 10, o: 6, kh: 3, kw: 3, padding: 1, groups: 6),             // depthwise s1 (SIMD rows)
    ConvCase(c: 4, h: 9, w: 7, o: 4, kh: 3, kw: 3, stride: 2, padding: 1, groups: 4),    // depthwise s2
    ConvCase(n: 1, c: 2, h: 5, w: 43, o: 2, kh: 3, kw: 3, stride: 2, padding: 1, groups: 2), // depthwise s2: 8- and 4-wide split
    ConvCase(n: 1, c: 3, h: 8, w: 16, o: 3, kh: 3, kw: 3, stride: 2, padding: 1, groups: 3), // depthwise s2: odd columns read to the row's end
    ConvCase(c: 8, h: 4, w: 4, o: 8, kh: 3, kw: 3, padding: 1, groups: 8),              // depthwise 4×4: channels interleaved
    ConvCase(n: 3, c: 12, h: 8, w: 7, o: 12, kh: 3, kw: 3, stride: 2, padding: 1, groups: 12, bias: false), // interleaved, 4×4 output, odd width
    ConvCase(c: 4, h: 7, w: 6, o: 4, kh: 3, kw: 3, stride: 2, padding: 2, dilation: 2, groups: 4), // interleaved, dilated, 3×4 output
    ConvCase(n: 1, c: 8, h: 5, w: 5, o: 8, kh: 5, kw: 5, groups: 8, bias: false),       // interleaved GDC: 1×1 output
    ConvCase(n: 1, c: 2, h: 13, w: 9, o: 2, kh: 3, kw: 3, padding: 1, groups: 2),        // depthwise: 4-row blocks, then 1
    ConvCase(c: 8, h: 6, w: 6, o: 8, kh: 3, kw: 3, padding: 1, groups: 4, bias: false),  // conv2_dw: 2 per group
    ConvCase(c: 4, h: 4, w: 4, o: 4, kh: 4, kw: 4, groups: 4, bias: false),              // GDC 4x4
    ConvCase(c: 3, h: 7, w: 7, o: 3, kh: 7, kw: 7, groups: 3),                           // GDC 7x7
    ConvCase(n: 1, c: 2, h: 12, w: 12, o: 3, kh: 5, kw: 5),                              // LeNet 5x5
    ConvCase(c: 3, h: 9, w: 11, o: 2, kh: 3, kw: 2, stride: Size2D(2, 1), padding: Size2D(1, 2), dilation: 2), // odd
    ConvCase(c: 10, h: 5, w: 6, o: 4, kh: 3, kw: 3, padding: 1, groups: 2),              // grouped GEMM (5 per group)
    ConvCase(c: 2, h: 10, w: 13, o: 4, kh: 3, kw: 3, stride: 3, padding: 2, dilation: 2, groups: 2), // depthwise ×2, odd
    ConvCase(n: 3, c: 1, h: 3, w: 3, o: 2, kh: 3, kw: 3, padding: 0),                    // 1×1 output
    ConvCase(c: 3, h: 6, w: 17, o: 3, kh: 2, kw: 2, stride: 2, groups: 3),               // unread last column
    ConvCase(c: 3, h: 9, w: 10, o: 6, kh: 3, kw: 3, padding: 2, dilation: 2, groups: 3), // dilated ×2, correlation path
    ConvCase(c: 2, h: 5, w: 5, o: 2, kh: 3, kw: 3, padding: 3, groups: 2),               // padding > (k − 1)·d
    ConvCase(n: 1, c: 15, h: 40, w: 64, o: 4, kh: 3, kw: 3, stride: Size2D(2, 1), padding: 1), // several im2col bands
    ConvCase(n: 1, c: 4, h: 12, w: 21, o: 4, kh: 3, kw: 3, stride: Size2D(1, 3), padding: 1, dilation: Size2D(2, 1), groups: 4),
    ConvCase(c: 16, h: 9, w: 21, o: 16, kh: 3, kw: 3, padding: 1),                     // Winograd: vector + edge tiles, odd rows
    ConvCase(n: 3, c: 17, h: 6, w: 5, o: 20, kh: 3, kw: 3, bias: false),                // Winograd unpadded, 2 images per chunk
    ConvCase(n: 1, c: 16, h: 4, w: 36, o: 16, kh: 3, kw: 3, padding: Size2D(2, 1)),     // Winograd: padding 2, two vector groups
    ConvCase(n: 1, c: 16, h: 3, w: 3, o: 16, kh: 3, kw: 3),                             // Winograd: a 1×1 output, one partial tile
    ConvCase(n: 3, c: 16, h: 2, w: 2, o: 17, kh: 3, kw: 3, padding: 1),                 // Winograd: 2×2 outputs, batch 3
    ConvCase(c: 3, h: 7, w: 6, o: 4, kh: 5, kw: 3, padding: Size2D(2, 0)),             // correlation input gradient, 5×3
    ConvCase(c: 4, h: 4, w: 4, o: 8, kh: 3, kw: 3, padding: 1, groups: 4),              // depthwise ×2 on 4×4: 4-wide rows
    ConvCase(c: 8, h: 12, w: 12, o: 8, kh: 3, kw: 3, padding: 1, groups: 4, bias: false), // 2 per group: 8 + 4 wide, added
    ConvCase(c: 3, h: 13, w: 16, o: 4, kh: 5, kw: 5, stride: 3, padding: 2),             // polyphase columns, stride 3
    ConvCase(c: 2, h: 8, w: 8, o: 3, kh: 3, kw: 3, stride: 2, padding: 1),              // polyphase, 4×4 output
    ConvCase(c: 2, h: 6, w: 23, o: 3, kh: 2, kw: 3, stride: Size2D(1, 3), padding: Size2D(0, 1)), // polyphase, strided columns
    ConvCase(n: 2, c: 16, h: 10, w: 8, o: 16, kh: 3, kw: 3, padding: 1),                 // Winograd 8 wide: tile-row pairs, then one
    ConvCase(n: 1, c: 16, h: 12, w: 10, o: 17, kh: 3, kw: 3, bias: false),              // Winograd: 8-wide output, 10-wide input gradient
] + AuditedConvCases.all + phaseTapCases + [
    ConvCase(n: 5, c: 32, h: 24, w: 28, o: 8, kh: 3, kw: 3, padding: 1),                 // image blocks of 2, last one short
    ConvCase(n: 5, c: 12, h: 47, w: 55, o: 6, kh: 5, kw: 5, stride: 2, padding: 2, bias: false), // the same, stride 2
]

/// Kernel paths a coverage audit found without a gradient check (session 20), by name.
enum AuditedConvCases {
    /// A grouped GEMM, strided: col2im per group.
    static let stridedGroupedGEMM = ConvCase(n: 1, c: 10, h: 5, w: 5, o: 2, kh: 3, kw: 3, stride: 2, padding: 1, groups: 2)
    /// A grouped 1×1 (5 channels per group).
    static let groupedPointwise = ConvCase(c: 10, h: 3, w: 2, o: 10, kh: 1, kw: 1, groups: 2)
    /// 1×1 stride 2 with a 5-wide output: im2col's stride-2 vectors.
    static let stride2Columns = ConvCase(c: 3, h: 9, w: 10, o: 2, kh: 1, kw: 1, stride: 2)
    /// 1×1 stride 3: im2col at stride 3.
    static let stride3Columns = ConvCase(n: 1, c: 2, h: 7, w: 8, o: 3, kh: 1, kw: 1, stride: 3)
    /// Winograd: groups of 4 tiles.
    static let winogradFourTiles = ConvCase(n: 1, c: 16, h: 4, w: 16, o: 16, kh: 3, kw: 3, padding: 1)
    /// Winograd: one image in blocks of tile rows.
    static let winogradRowBlocks = ConvCase(n: 1, c: 32, h: 45, w: 45, o: 32, kh: 3, kw: 3, padding: 1, bias: false)

    static let all = [stridedGroupedGEMM, groupedPointwise, stride2Columns, stride3Columns, winogradFourTiles, winogradRowBlocks]
}

/// Strided convolutions that run one GEMM per kernel tap over the phase planes (``ConvPhaseTaps``).
let phaseTapCases: [ConvCase] = [
    ConvCase(n: 3, c: 16, h: 32, w: 32, o: 8, kh: 3, kw: 3, stride: 2, padding: 1),       // TinyResNet's stride 2, 3 images over the chunks
    ConvCase(n: 2, c: 16, h: 17, w: 40, o: 5, kh: 3, kw: 3, stride: Size2D(2, 1), padding: 1, bias: false), // strided rows only
    ConvCase(n: 1, c: 17, h: 25, w: 49, o: 3, kh: 5, kw: 5, stride: 3, padding: 2),       // stride 3, 5×5
    ConvCase(n: 2, c: 16, h: 34, w: 34, o: 4, kh: 3, kw: 3, stride: 2, bias: false),      // unpadded: the last row and column read by no tap
    ConvCase(n: 2, c: 64, h: 32, w: 32, o: 64, kh: 3, kw: 3, stride: 2, padding: 1),      // two bands of rows (small-matrix cores)
]

/// Naive double-precision convolution and its gradients for a cotangent `g`.
func referenceConv(_ k: ConvCase, x: [Float], w: [Float], b: [Float]?, g: [Float]?)
    -> (y: [Double], dx: [Double], dw: [Double], db: [Double], ho: Int, wo: Int) {
    let ho = (k.h + 2 * k.padding.height - k.dilation.height * (k.kh - 1) - 1) / k.stride.height + 1
    let wo = (k.w + 2 * k.padding.width - k.dilation.width * (k.kw - 1) - 1) / k.stride.width + 1
    let cpg = k.c / k.groups, opg = k.o / k.groups
    var y = [Double](repeating: 0, count: k.n * k.o * ho * wo)
    var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
    var db = [Double](repeating: 0, count: k.o)
    for n in 0..<k.n { for o in 0..<k.o { for i in 0..<ho { for j in 0..<wo {
        let yi = ((n * k.o + o) * ho + i) * wo + j
        var s = Double(b?[o] ?? 0)
        let gy = Double(g?[yi] ?? 0)
        db[o] += gy
        for ci in 0..<cpg { for u in 0..<k.kh { for v in 0..<k.kw {
            let c = (o / opg) * cpg + ci
            let iy = i * k.stride.height + u * k.dilation.height - k.padding.height
            let ix = j * k.stride.width + v * k.dilation.width - k.padding.width
            guard iy >= 0, iy < k.h, ix >= 0, ix < k.w else { continue }
            let xi = ((n * k.c + c) * k.h + iy) * k.w + ix, wi = ((o * cpg + ci) * k.kh + u) * k.kw + v
            s += Double(w[wi]) * Double(x[xi])
            dx[xi] += Double(w[wi]) * gy
            dw[wi] += Double(x[xi]) * gy
        } } }
        y[yi] = s
    } } } }
    return (y, dx, dw, db, ho, wo)
}

func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}

/// Whether `a` matches the double-precision `reference` to 1e-5 of its largest magnitude (at
/// least 1e-4): Winograd F(4×4, 3×3) rounds at about 1e-6 of it (its transforms scale by up to
/// 8 · 5), and every kernel sums up to a few hundred products.
func matches(_ a: [Float], _ reference: [Double]) -> Bool {
    maxDifference(a, reference) < 1e-5 * Swift.max(10, reference.map(abs).max() ?? 0)
}

@Test(arguments: convCases)
func convMatchesNaiveReference(_ k: ConvCase) {
    var rng = RandomGenerator(seed: 42)
    let x = Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng).trackingGradients()
    let w = Tensor.randomNormal([k.o, k.c / k.groups, k.kh, k.kw], using: &rng).trackingGradients()
    let b = k.bias ? Tensor.randomNormal([k.o], using: &rng).trackingGradients() : nil
    let y = Tensor.conv2d(x, weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
    let g = Tensor.randomNormal(y.shape, using: &rng)
    let ref = referenceConv(k, x: x.scalars, w: w.scalars, b: b?.scalars, g: g.scalars)
    #expect(y.shape == [k.n, k.o, ref.ho, ref.wo], "\(k)")
    #expect(matches(y.scalars, ref.y), "forward \(k)")
    let grads = y.backward(gradient: g)
    #expect(matches(grads[x]!.scalars, ref.dx), "input gradient \(k)")
    #expect(matches(grads[w]!.scalars, ref.dw), "weight gradient \(k)")
    if let b { #expect(matches(grads[b]!.scalars, ref.db), "bias gradient \(k)") }
}

/// The im2col band case computes one image at a time in two bands of rows (forward, and the
/// backward's accumulation over bands).
@Test func bandCaseCoversSeveralBands() {
    let k = convCases.first { $0.c == 15 && $0.h == 40 }!
    let g = ConvGeometry(input: [k.n, k.c, k.h, k.w], weight: [k.o, k.c, k.kh, k.kw], bias: nil, stride: k.stride,
                         padding: k.padding, dilation: k.dilation, groups: k.groups)
    #expect(!ConvPhaseTaps.supports(g) && !ConvWinograd.supports(g) && ConvGEMM.imagesPerBlock(g) == 1)
    #expect(ConvGEMM.bands(g).count == 2, "\(ConvGEMM.bands(g))")
}

/// Each gradient alone (the other operand untracked) through the phase-tap kernel's backward,
/// and an empty batch: its weight gradient is zero, whatever the kernel.
@Test func convGradientsAloneAndEmptyBatches() {
    var rng = RandomGenerator(seed: 8)
    let k = phaseTapCases[0]
    let x = Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng), w = Tensor.randomNormal([k.o, k.c, k.kh, k.kw], using: &rng)
    let g = Tensor.randomNormal([k.n, k.o, 16, 16], using: &rng)
    let ref = referenceConv(k, x: x.scalars, w: w.scalars, b: nil, g: g.scalars)
    let xt = x.trackingGradients(), wt = w.trackingGradients()
    let inputOnly = Tensor.conv2d(xt, weight: w, stride: k.stride, padding: k.padding).backward(gradient: g)
    #expect(inputOnly[w] == nil && matches(inputOnly[xt]!.scalars, ref.dx))
    let weightOnly = Tensor.conv2d(x, weight: wt, stride: k.stride, padding: k.padding).backward(gradient: g)
    #expect(weightOnly[x] == nil && matches(weightOnly[wt]!.scalars, ref.dw))

    for (c, kernel, stride, groups) in [(16, 3, 2, 1), (16, 3, 1, 1), (4, 3, 1, 4), (3, 5, 1, 1)] {
        let empty = Tensor.zeros([0, c, 32, 32]).trackingGradients()
        let weight = Tensor.randomNormal([16, c / groups, kernel, kernel], using: &rng).trackingGradients()
        let y = Tensor.conv2d(empty, weight: weight, stride: Size2D(stride, stride), padding: 1, groups: groups)
        let grads = y.backward(gradient: Tensor.zeros(y.shape))
        #expect(grads[weight]!.scalars.allSatisfy { $0 == 0 }, "c\(c) k\(kernel) s\(stride) g\(groups)")
        #expect(grads[empty]!.shape == [0, c, 32, 32])
    }
}

/// The last two cases run the small-plane path with several images per GEMM and several
/// blocks per thread's chunk (whatever the thread count, up to 2).
@Test func smallPlaneCasesCoverSeveralImageBlocks() {
    for k in convCases.suffix(2) {
        let g = ConvGeometry(input: [k.n, k.c, k.h, k.w], weight: [k.o, k.c, k.kh, k.kw], bias: nil, stride: k.stride,
                             padding: k.padding, dilation: k.dilation, groups: k.groups)
        #expect(!ConvWinograd.supports(g) && !ConvPhaseTaps.supports(g) && !g.usesDirectKernel, "\(k)")
        #expect(ConvGEMM.imagesPerBlock(g) == 2, "\(k): \(ConvGEMM.imagesPerBlock(g)) images per block")
    }
}

/// A convolution is linear in each element the check perturbs, so central differences are exact
/// for any step; a step of 0.1 keeps the forward's rounding (larger for Winograd's transforms)
/// from dominating them.
@Test func convGradientCheck() {
    var rng = RandomGenerator(seed: 3)
    // im2col, direct depthwise (three), phase taps; then one case of each other kernel, each checked to take it.
    let winograd = ConvCase(n: 1, c: 16, h: 5, w: 6, o: 16, kh: 3, kw: 3, padding: 1)
    let interleaved = convCases[8], pointwise = convCases[2]
    func geometry(_ k: ConvCase) -> ConvGeometry {
        ConvGeometry(input: [k.n, k.c, k.h, k.w], weight: [k.o, k.c / k.groups, k.kh, k.kw], bias: nil, stride: k.stride,
                     padding: k.padding, dilation: k.dilation, groups: k.groups)
    }
    #expect(ConvWinograd.supports(geometry(winograd)) && ConvInterleaved.supports(geometry(interleaved)))
    #expect(pointwise.kh == 1 && pointwise.kw == 1 && pointwise.stride == 1 && pointwise.groups == 1)
    for k in [convCases[1], convCases[6], convCases[12], convCases[19], phaseTapCases[0], winograd, interleaved, pointwise] {
        let x = Tensor.randomNormal([1, k.c, k.h, k.w], using: &rng)
        let w = Tensor.randomNormal([k.o, k.c / k.groups, k.kh, k.kw], using: &rng)
        let b = Tensor.randomNormal([k.o], using: &rng)
        let report = GradientCheck.run([x, w, b], epsilon: 0.1, maxElementsPerInput: 24) { t in
            Tensor.conv2d(t[0], weight: t[1], bias: t[2], stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
        }
        #expect(report.passed, "\(k): \(report)")
    }
}

/// The cases added for the coverage audit (session 20) take the paths they are named for.
@Test func auditedCasesTakeTheirPaths() {
    func geometry(_ k: ConvCase) -> ConvGeometry {
        ConvGeometry(input: [k.n, k.c, k.h, k.w], weight: [k.o, k.c / k.groups, k.kh, k.kw], bias: nil, stride: k.stride,
                     padding: k.padding, dilation: k.dilation, groups: k.groups)
    }
    let audited = AuditedConvCases.self
    let strided = geometry(audited.stridedGroupedGEMM), grouped1x1 = geometry(audited.groupedPointwise)
    #expect(strided.groups == 2 && !strided.usesDirectKernel && strided.inputGradientCorrelation == nil)
    #expect(grouped1x1.isPointwise && grouped1x1.groups == 2 && !grouped1x1.usesDirectKernel)
    let stride2 = geometry(audited.stride2Columns), stride3 = geometry(audited.stride3Columns)
    for g in [stride2, stride3] {
        #expect(g.kernelArea == 1 && !g.isPointwise && !ConvPhaseTaps.supports(g) && ConvGEMM.imagesPerBlock(g) == 1)
    }
    #expect(stride2.outWidth >= 5 && stride2.strideWidth == 2 && stride3.strideWidth == 3)
    let fourTiles = geometry(audited.winogradFourTiles), rowBlocks = ConvWinograd.Tiling(geometry(audited.winogradRowBlocks))
    #expect(ConvWinograd.supports(fourTiles) && ConvWinograd.Tiling(fourTiles).tilesX == 4 && ConvWinograd.supports(geometry(audited.winogradRowBlocks)))
    #expect(rowBlocks.imagesPerBlock == 1 && rowBlocks.tileRowsPerBlock < rowBlocks.tilesY)
}

/// The kernel paths ``convGradientCheck()`` (one image each) leaves out, checked at their whole
/// batches, so that weight gradients are summed over images and threads: the 1×1 stride-2
/// shortcut, two channels per group in the direct kernel, LeNet's 5×5 and a dilated odd case
/// (image blocks without polyphase, col2im), a grouped GEMM, the dilated correlation path, the
/// per-image im2col bands, Winograd over 3 images, phase taps with strided rows only and
/// unpadded, and blocks of images with a short last block; then (a coverage audit, session 20)
/// the pointwise GEMM over a batch, the direct kernel's input gradient with padding beyond
/// `(k − 1)·d` and its 4-wide rows, Winograd's 8-wide outputs, 4-tile groups and tile-row blocks,
/// a strided grouped GEMM (col2im per group), a grouped 1×1, and im2col's stride-2 vectors and
/// stride 3.
@Test(arguments: [3, 13, 16, 17, 18, 22, 24, 27, 2, 23, 32, 37, 38].map { convCases[$0] } + AuditedConvCases.all
      + [phaseTapCases[1], phaseTapCases[3]] + convCases.suffix(2))
func convGradientCheckAtWholeBatches(_ k: ConvCase) {
    var rng = RandomGenerator(seed: 29)
    let x = Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng)
    let w = Tensor.randomNormal([k.o, k.c / k.groups, k.kh, k.kw], using: &rng)
    let b = Tensor.randomNormal([k.o], using: &rng)
    let report = GradientCheck.run([x, w, b], epsilon: 0.1, maxElementsPerInput: 16) { t in
        Tensor.conv2d(t[0], weight: t[1], bias: t[2], stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
    }
    #expect(report.passed, "\(k): \(report)")
}

@Test func convOnlyWeightTrackedGivesNoInputGradient() {
    var rng = RandomGenerator(seed: 5)
    let x = Tensor.randomNormal([2, 4, 5, 5], using: &rng)
    let w = Tensor.randomNormal([4, 1, 3, 3], using: &rng).trackingGradients()
    let y = Tensor.conv2d(x, weight: w, padding: 1, groups: 4)
    let grads = y.sum().backward()
    #expect(grads[x] == nil && grads[w]?.shape == [4, 1, 3, 3])
}

/// A convolution called from inside a parallel region (a nested call) runs serially, with
/// OpenBLAS single-threaded: its blocks of images, and so its bits, must be those of a call
/// that has the region to itself — forward and both gradients.
@Test(.enabled(if: Parallel.threadCount > 1, "needs a region to nest in"))
func nestedConvolutionsGiveTheSameBits() {
    let cases = [
        ConvCase(n: 8, c: 1, h: 28, w: 28, o: 20, kh: 5, kw: 5),                      // LeNet: image blocks of 36
        ConvCase(n: 8, c: 20, h: 12, w: 12, o: 50, kh: 5, kw: 5),                     // LeNet's second: blocks of 16
        ConvCase(n: 8, c: 8, h: 16, w: 16, o: 8, kh: 3, kw: 3, stride: 2, padding: 1), // strided, polyphase blocks
        ConvCase(n: 8, c: 16, h: 8, w: 8, o: 16, kh: 3, kw: 3, padding: 1),            // Winograd: blocks of images
        ConvCase(n: 4, c: 16, h: 32, w: 32, o: 16, kh: 3, kw: 3, stride: 2, padding: 1), // one GEMM per tap
    ]
    func run(_ k: ConvCase) -> [UInt32] {
        var rng = RandomGenerator(seed: 77)
        let x = Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng).trackingGradients()
        let w = Tensor.randomNormal([k.o, k.c, k.kh, k.kw], using: &rng).trackingGradients()
        let y = Tensor.conv2d(x, weight: w, stride: k.stride, padding: k.padding)
        let grads = y.backward(gradient: Tensor.randomNormal(y.shape, using: &rng))
        return (y.scalars + grads[x]!.scalars + grads[w]!.scalars).map(\.bitPattern)
    }
    for k in cases {
        let alone = run(k)
        Parallel.enterRegion()
        let nested = run(k)
        Parallel.exitRegion()
        #expect(nested == alone, "\(k)")
    }
}
