import Testing
@testable import Layers
@testable import Tensor

/// `conv2dBatchNorm` applies the BatchNorm map (and PReLU) inside each convolution kernel; it
/// must give exactly what the separate ops give, on every kernel path.
struct FusedCase: CustomStringConvertible, Sendable {
    var n: Int, c: Int, h: Int, w: Int, o: Int, k: Int, stride: Int, padding: Int, groups: Int
    init(n: Int = 2, c: Int, h: Int, w: Int, o: Int, k: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        (self.n, self.c, self.h, self.w, self.o, self.k) = (n, c, h, w, o, k)
        (self.stride, self.padding, self.groups) = (stride, padding, groups)
    }
    var description: String { "x[\(n),\(c),\(h),\(w)] o\(o) k\(k) s\(stride) p\(padding) g\(groups)" }
}

let fusedCases: [FusedCase] = [
    FusedCase(c: 6, h: 5, w: 4, o: 7, k: 1),                                   // 1×1: per-image GEMMs
    FusedCase(c: 5, h: 9, w: 8, o: 6, k: 3, stride: 2, padding: 1),            // small plane: image blocks
    FusedCase(c: 6, h: 7, w: 9, o: 6, k: 3, padding: 1, groups: 6),            // depthwise: direct kernel
    FusedCase(c: 8, h: 4, w: 4, o: 8, k: 3, padding: 1, groups: 8),            // depthwise 4×4: channels interleaved
    FusedCase(c: 8, h: 4, w: 4, o: 16, k: 3, padding: 1, groups: 4),           // 2 in, 4 out per group: direct, added
    FusedCase(c: 10, h: 5, w: 6, o: 4, k: 3, padding: 1, groups: 2),           // grouped GEMM
    FusedCase(n: 1, c: 2, h: 34, w: 33, o: 3, k: 3, padding: 1),               // large plane: im2col bands
    FusedCase(c: 16, h: 12, w: 32, o: 6, k: 3, stride: 2, padding: 1),         // stride 2, 16 wide: one GEMM per tap
    FusedCase(c: 16, h: 6, w: 7, o: 16, k: 3, padding: 1),                     // Winograd: applied after
]

private func operands(_ k: FusedCase, seed: UInt64) -> (x: Tensor, w: Tensor, b: Tensor, mean: Tensor, variance: Tensor,
                                                          gamma: Tensor, beta: Tensor) {
    var rng = RandomGenerator(seed: seed)
    return (Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng), Tensor.randomNormal([k.o, k.c / k.groups, k.k, k.k], using: &rng),
            Tensor.randomNormal([k.o], using: &rng), Tensor.randomNormal([k.o], using: &rng),
            Tensor.randomUniform([k.o], low: 0.5, high: 2, using: &rng), Tensor.randomNormal([k.o], using: &rng),
            Tensor.randomNormal([k.o], using: &rng))
}

@Test(arguments: fusedCases)
func fusedConvBatchNormEqualsSeparateOps(_ k: FusedCase) {
    let t = operands(k, seed: 31)
    let conv = Tensor.conv2d(t.x, weight: t.w, bias: t.b, stride: Size2D(k.stride, k.stride), padding: Size2D(k.padding, k.padding),
                             groups: k.groups)
    var rng = RandomGenerator(seed: 32)
    let slopes: [Tensor?] = [nil, Tensor.randomNormal([k.o], using: &rng), Tensor([0.25])]
    for slope in slopes {
        let fused = Tensor.conv2dBatchNorm(t.x, weight: t.w, bias: t.b, stride: Size2D(k.stride, k.stride),
                                           padding: Size2D(k.padding, k.padding), groups: k.groups, mean: t.mean,
                                           variance: t.variance, normWeight: t.gamma, normBias: t.beta, slope: slope)
        let separate = slope.map {
            Tensor.batchNormPReLU(conv, mean: t.mean, variance: t.variance, weight: t.gamma, bias: t.beta, slope: $0)
        } ?? Tensor.batchNorm(conv, mean: t.mean, variance: t.variance, weight: t.gamma, bias: t.beta)
        #expect(fused.shape == separate.shape && fused.scalars == separate.scalars, "\(k), slope \(slope?.shape ?? [])")
        // A residual block's sum, added in the same epilogue: `separate + r`, bit for bit.
        let r = Tensor.randomNormal(separate.shape, using: &rng)
        let summed = Tensor.conv2dBatchNorm(t.x, weight: t.w, bias: t.b, stride: Size2D(k.stride, k.stride),
                                            padding: Size2D(k.padding, k.padding), groups: k.groups, mean: t.mean,
                                            variance: t.variance, normWeight: t.gamma, normBias: t.beta, slope: slope, adding: r)
        #expect(summed.scalars == (separate + r).scalars, "\(k), slope \(slope?.shape ?? []), residual")
    }
}

/// With an operand that needs a gradient the ops run one after the other, so gradients flow.
@Test func fusedConvBatchNormKeepsGradients() {
    let k = fusedCases[0], t = operands(k, seed: 33)
    let x = t.x.trackingGradients(), w = t.w.trackingGradients(), slope = Tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]).trackingGradients()
    let fused = Tensor.conv2dBatchNorm(x, weight: w, mean: t.mean, variance: t.variance, normWeight: t.gamma, normBias: t.beta,
                                       slope: slope)
    let separate = Tensor.batchNormPReLU(Tensor.conv2d(x, weight: w), mean: t.mean, variance: t.variance, weight: t.gamma,
                                         bias: t.beta, slope: slope)
    #expect(fused.scalars == separate.scalars)
    let a = fused.sum().backward(), b = separate.sum().backward()
    for operand in [x, w, slope] { #expect(a[operand]!.scalars == b[operand]!.scalars) }
}

/// Finite differences through the op (the gradients come from the separate ops it falls back on).
@Test func fusedConvBatchNormGradientCheck() {
    let k = fusedCases[1], t = operands(k, seed: 35)
    let x = t.x.narrowed(axis: 0, start: 0, length: 1)
    let report = GradientCheck.run([x, t.w, t.gamma, t.beta, Tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])],
                                   maxElementsPerInput: 16) { o in
        Tensor.conv2dBatchNorm(o[0], weight: o[1], stride: 2, padding: 1, mean: t.mean, variance: t.variance,
                               normWeight: o[2], normBias: o[3], slope: o[4])
    }
    #expect(report.passed, "\(report)")
}

/// Finite differences through the residual too (it needs a gradient, so the ops run one by one).
@Test func fusedConvBatchNormResidualGradientCheck() {
    let k = fusedCases[0], t = operands(k, seed: 36)
    var rng = RandomGenerator(seed: 37)
    let x = t.x.narrowed(axis: 0, start: 0, length: 1), r = Tensor.randomNormal([1, k.o, k.h, k.w], using: &rng)
    let report = GradientCheck.run([x, t.w, r], maxElementsPerInput: 16) { o in
        Tensor.conv2dBatchNorm(o[0], weight: o[1], mean: t.mean, variance: t.variance, normWeight: t.gamma, normBias: t.beta,
                               adding: o[2])
    }
    #expect(report.passed, "\(report)")
}

/// `Sequential(x, adding: r)` is `Sequential(x) + r` bit for bit, evaluating (the sum in the last
/// convolution's epilogue, also through a last layer that is itself `ResidualAdding`) and
/// training (added after the batch-statistics BatchNorm); a last layer that cannot take it
/// gets it added after.
@Test func sequentialAddsResidualsInTheLastEpilogue() {
    var rng = RandomGenerator(seed: 38)
    func block() -> Sequential {
        let norm = BatchNorm2d(6)
        norm.runningMean!.value = Tensor.randomNormal([6], using: &rng)
        norm.runningVar!.value = Tensor.randomUniform([6], low: 0.5, high: 2, using: &rng)
        return Sequential(Conv2d(4, 6, kernelSize: 3, padding: 1, bias: false, using: &rng), norm)
    }
    let x = Tensor.randomNormal([2, 4, 5, 5], using: &rng), r = Tensor.randomNormal([2, 6, 5, 5], using: &rng)
    let plain = block(), nested = Sequential(Conv2d(4, 4, kernelSize: 1, using: &rng), block())
    let unfusable = Sequential(block(), PReLU(6), Identity())
    for model in [plain, nested, unfusable] {
        for training in [false, true] {
            _ = training ? model.train() : model.eval()
            let summed = withoutGradients { model(x, adding: r) }, separate = withoutGradients { model(x) + r }
            #expect(summed.scalars == separate.scalars, "training \(training)")
        }
    }
}

/// `Sequential` fuses Conv2d → BatchNorm2d → PReLU when evaluating, and gives what the layers
/// give one by one; in training mode it does not fuse (batch statistics).
@Test func sequentialFusesConvolutionBlocksInEvaluation() {
    var rng = RandomGenerator(seed: 34)
    let conv = Conv2d(4, 8, kernelSize: 3, padding: 1, groups: 4, bias: false, using: &rng)
    let norm = BatchNorm2d(8), prelu = PReLU(8)
    norm.runningMean!.value = Tensor.randomNormal([8], using: &rng)
    norm.runningVar!.value = Tensor.randomUniform([8], low: 0.5, high: 2, using: &rng)
    let block = Sequential(conv, norm, prelu, Conv2d(8, 3, kernelSize: 1, using: &rng), BatchNorm2d(3))
    let x = Tensor.randomNormal([2, 4, 6, 6], using: &rng)
    _ = block.eval()
    let fused = withoutGradients { block(x) }
    let oneByOne = withoutGradients { block.layers.reduce(x) { $1($0) } }
    #expect(fused.scalars == oneByOne.scalars)
    #expect(block.summary(inputShape: [1, 4, 6, 6]).contains("[1, 8, 6, 6]"))
    _ = block.train()
    let training = withoutGradients { block(x) }
    #expect(training.shape == [2, 3, 6, 6] && training.scalars != fused.scalars)
}

/// Values whose PReLU and affine maps have edge cases: signed zeros, subnormals, infinities,
/// NaN (compared as "a NaN"), and 19 of them (two `SIMD8` bodies and a scalar tail).
private let edgeValues: [Float] = [0, -0, 1, -1, 3.5, -2.25, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                                   .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                   1e-30, -1e-30, 0.5, -0.5, 7, -7]

@Test(arguments: [Float(0.25), 1, 0, -0.0, -0.5, 1.5, 1e-30, -3])
func epilogueKernelsMatchTheirScalarDefinitionsBitForBit(_ a: Float) {
    let n = edgeValues.count
    // Bit patterns, with every NaN as one: which NaN an operation returns (its sign and payload)
    // depends on the order the compiler gives the operands, and 0·∞ folded at compile time is
    // not the NaN the processor makes.
    func bits(_ v: [Float]) -> [UInt32] { v.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }
    var y = [Float](repeating: 0, count: n)
    // PReLU alone: `max(z, a·z)` for slopes in [−∞, 1] other than 0, the select elsewhere.
    edgeValues.withUnsafeBufferPointer { x in
        y.withUnsafeMutableBufferPointer { BatchNormPReLUKernel.mapPReLU(x.baseAddress!, $0.baseAddress!, n, a) { $0 } }
    }
    #expect(bits(y) == bits(edgeValues.map { $0 > 0 ? $0 : a * $0 }), "slope \(a)")
    for (m, s, b) in [(Float(0), Float(1.5), Float(-0.25)), (-0.0, 2, 0), (0.75, -3, 1)] {
        // Evaluation (`m = +0`, subtraction skipped) and training (`m = μ`) affine maps, then PReLU.
        let z = edgeValues.map { ($0 - m) * s + b }
        edgeValues.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { BatchNormPReLUKernel.affinePReLU(x.baseAddress!, $0.baseAddress!, n, m, s, b, a) }
        }
        #expect(bits(y) == bits(z.map { $0 > 0 ? $0 : a * $0 }), "m \(m) s \(s) b \(b) slope \(a)")
        edgeValues.withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { BatchNormKernel.affinePlane(x.baseAddress!, $0.baseAddress!, n, m, s, b) }
        }
        #expect(bits(y) == bits(z), "m \(m) s \(s) b \(b)")
    }
    // The affine map with a residual added in the same pass.
    let residual = edgeValues.reversed().map { $0 * a }
    edgeValues.withUnsafeBufferPointer { x in
        residual.withUnsafeBufferPointer { r in
            y.withUnsafeMutableBufferPointer { BatchNormKernel.affinePlaneAdding(x.baseAddress!, r.baseAddress!, $0.baseAddress!, n, 1.5, -0.25) }
        }
    }
    #expect(bits(y) == bits(zip(edgeValues, residual).map { ($0 * 1.5 + -0.25) + $1 }), "slope \(a)")
}
