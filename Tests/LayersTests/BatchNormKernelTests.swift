import Testing
import Tensor

/// The BatchNorm kernels' code paths: one-pass shifted statistics, `SIMD8` bodies with 16-, 8-
/// and scalar tails, 1-element planes (BatchNorm1d), the batch split over threads.

/// Plane sizes 1, 5, 8, 24 (16 + 8), 37 (16 + 16 + 5) in `[N, C, inner]` shapes.
private let shapes: [[Int]] = [[6, 3], [3, 2, 1], [2, 3, 5], [2, 2, 8], [3, 2, 24], [2, 3, 37], [2, 2, 5, 5]]

/// Per-channel mean and biased variance in double precision.
private func reference(_ x: Tensor) -> (mean: [Double], variance: [Double]) {
    let n = x.shape[0], c = x.shape[1], inner = x.count / (n * c), v = x.scalars
    var mean = [Double](repeating: 0, count: c), variance = mean
    for ch in 0..<c {
        let values = (0..<n).flatMap { b in (0..<inner).map { Double(v[(b * c + ch) * inner + $0]) } }
        mean[ch] = values.reduce(0, +) / Double(values.count)
        variance[ch] = values.reduce(0) { $0 + ($1 - mean[ch]) * ($1 - mean[ch]) } / Double(values.count)
    }
    return (mean, variance)
}

private func channel(_ i: Int, _ shape: [Int]) -> Int { (i / shape.dropFirst(2).reduce(1, *)) % shape[1] }

@Test(arguments: shapes)
func oneShotStatisticsMatchTwoPassReferenceForLargeMeans(_ shape: [Int]) {
    var g = RandomGenerator(seed: 21)
    // Mean 1e3, standard deviation 1e-1: the unshifted Σx² − (Σx)²/M would lose every digit.
    for (mean, deviation) in [(Float(1e3), Float(1e-1)), (0, 1), (-3, 1e-2)] {
        let x = Tensor.randomNormal(shape, mean: mean, standardDeviation: deviation, using: &g)
        let (y, mu, variance) = Tensor.batchNorm(x, weight: nil, bias: nil, epsilon: 0)
        let r = reference(x)
        for (a, b) in zip(mu.scalars, r.mean) { #expect(abs(Double(a) - b) <= 1e-6 * max(1, abs(b)), "\(shape) mean \(a) vs \(b)") }
        for (a, b) in zip(variance.scalars, r.variance) { #expect(abs(Double(a) - b) <= 1e-5 * b, "\(shape) variance \(a) vs \(b)") }
        // y = (x − μ)/σ: float μ limits it to about ulp(μ)/σ.
        let tolerance = 2e-5 + 1e-7 * Double(abs(mean) / deviation)
        let xs = x.scalars
        for (i, value) in y.scalars.enumerated() {
            let c = channel(i, shape), expected = (Double(xs[i]) - r.mean[c]) / r.variance[c].squareRoot()
            #expect(abs(Double(value) - expected) <= tolerance, "\(shape) y[\(i)] \(value) vs \(expected)")
        }
    }
}

@Test(arguments: shapes)
func fusedPReLUForwardMatchesReference(_ shape: [Int]) {
    var g = RandomGenerator(seed: 22)
    let c = shape[1]
    let x = Tensor.randomNormal(shape, mean: 200, standardDeviation: 0.5, using: &g)
    let gamma = Tensor.randomNormal([c], using: &g), beta = Tensor.randomNormal([c], standardDeviation: 0.3, using: &g)
    let slope = Tensor.randomUniform([c], low: -0.5, high: 0.5, using: &g)
    let (y, mu, variance) = Tensor.batchNormPReLU(x, weight: gamma, bias: beta, slope: slope)
    let r = reference(x)
    for (a, b) in zip(variance.scalars, r.variance) { #expect(abs(Double(a) - b) <= 1e-5 * b) }
    for (a, b) in zip(mu.scalars, r.mean) { #expect(abs(Double(a) - b) <= 1e-6 * abs(b)) }
    let xs = x.scalars, gs = gamma.scalars, bs = beta.scalars, ss = slope.scalars
    for (i, value) in y.scalars.enumerated() {
        let ch = channel(i, shape)
        let z = (Double(xs[i]) - r.mean[ch]) / (r.variance[ch] + 1e-5).squareRoot() * Double(gs[ch]) + Double(bs[ch])
        let expected = z > 0 ? z : Double(ss[ch]) * z
        #expect(abs(Double(value) - expected) <= 1e-3, "\(shape) y[\(i)] \(value) vs \(expected)")
    }
}

/// dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy in double precision.
@Test(arguments: shapes)
func trainingBackwardMatchesDoubleReference(_ shape: [Int]) {
    var g = RandomGenerator(seed: 23)
    let c = shape[1], count = Double(shape.reduce(1, *) / c)
    let x = Tensor.randomNormal(shape, mean: 50, standardDeviation: 2, using: &g).trackingGradients()
    let gamma = Tensor.randomNormal([c], using: &g).trackingGradients(), beta = Tensor.zeros([c]).trackingGradients()
    let cot = Tensor.randomNormal(shape, using: &g)
    let grads = (Tensor.batchNorm(x, weight: gamma, bias: beta).output * cot).sum().backward()
    let r = reference(x), xs = x.scalars, cs = cot.scalars, gs = gamma.scalars
    let xhat = xs.indices.map { (Double(xs[$0]) - r.mean[channel($0, shape)]) / (r.variance[channel($0, shape)] + 1e-5).squareRoot() }
    var sumDy = [Double](repeating: 0, count: c), sumDyXhat = sumDy
    for i in xs.indices {
        sumDy[channel(i, shape)] += Double(cs[i])
        sumDyXhat[channel(i, shape)] += Double(cs[i]) * xhat[i]
    }
    let dx = grads[x]!.scalars
    for i in xs.indices {
        let ch = channel(i, shape)
        let expected = Double(gs[ch]) / (r.variance[ch] + 1e-5).squareRoot()
            * (Double(cs[i]) - sumDy[ch] / count - xhat[i] * sumDyXhat[ch] / count)
        #expect(abs(Double(dx[i]) - expected) <= 1e-4 * max(1, abs(expected)), "\(shape) dx[\(i)] \(dx[i]) vs \(expected)")
    }
    for (a, b) in zip(grads[gamma]!.scalars, sumDyXhat) { #expect(abs(Double(a) - b) <= 1e-4 * max(1, abs(b))) }
    for (a, b) in zip(grads[beta]!.scalars, sumDy) { #expect(abs(Double(a) - b) <= 1e-4 * max(1, abs(b))) }
}

@Test(arguments: shapes.filter { $0.reduce(1, *) / $0[1] > 2 })
func gradientChecksOnOddPlaneSizes(_ shape: [Int]) {
    var g = RandomGenerator(seed: 24)
    let c = shape[1]
    let gamma = Tensor.randomUniform([c], low: 0.5, high: 1.5, using: &g), beta = Tensor.randomNormal([c], standardDeviation: 0.2, using: &g)
    let slope = Tensor.randomUniform([c], low: 0.1, high: 0.4, using: &g)
    let mean = Tensor.full([c], 2.9), variance = Tensor.full([c], 1.1)
    // Inputs whose normalised values keep clear of PReLU's kink (a finite difference across it
    // averages both slopes), in both modes.
    var x = Tensor.randomNormal(shape, mean: 3, using: &g)
    func nearKink(_ z: Tensor) -> Bool { z.scalars.contains { abs($0) < 5e-3 } }
    while nearKink(Tensor.batchNorm(x, weight: gamma, bias: beta).output)
        || nearKink(Tensor.batchNorm(x, mean: mean, variance: variance, weight: gamma, bias: beta)) {
        x = Tensor.randomNormal(shape, mean: 3, using: &g)
    }
    let plain = GradientCheck.run([x, gamma, beta]) { t in Tensor.batchNorm(t[0], weight: t[1], bias: t[2]).output }
    #expect(plain.passed, "\(shape) batchNorm: \(plain)")
    let fused = GradientCheck.run([x, gamma, beta, slope]) { t in
        Tensor.batchNormPReLU(t[0], weight: t[1], bias: t[2], slope: t[3]).output
    }
    #expect(fused.passed, "\(shape) batchNormPReLU: \(fused)")
    let inference = GradientCheck.run([x, gamma, beta, slope]) { t in
        Tensor.batchNormPReLU(t[0], mean: mean, variance: variance, weight: t[1], bias: t[2], slope: t[3])
    }
    #expect(inference.passed, "\(shape) batchNormPReLU inference: \(inference)")
}

/// Enough images and elements for several threads: per-channel results are the same as the ones
/// of each channel alone, whose batch is too small to be split (the per-plane values are
/// combined in sample order whichever thread computed them). `[4500, 128]` has more per-plane
/// values than the kernels hold at once (`BatchNormKernel.heldValues`), so they combine it in
/// chunks of samples.
@Test(arguments: [[16, 16, 12, 12], [4500, 128]])
func batchSplitGivesTheSameResultsAsSingleChannels(_ shape: [Int]) {
    var g = RandomGenerator(seed: 25)
    let channels = shape[1]
    let x = Tensor.randomNormal(shape, mean: 1, using: &g).trackingGradients()
    let cot = Tensor.randomNormal(shape, using: &g)
    let slope = Tensor.full([channels], 0.25).trackingGradients()
    let (y, mu, variance) = Tensor.batchNorm(x, weight: nil, bias: nil)
    let dx = (y * cot).sum().backward()[x]!
    let fused = Tensor.batchNormPReLU(x, weight: nil, bias: nil, slope: slope)
    let fusedGradients = (fused.output * cot).sum().backward()
    for c in [0, channels / 2, channels - 1] {
        let xc = x.narrowed(axis: 1, start: c, length: 1).detached().trackingGradients()
        let cc = cot.narrowed(axis: 1, start: c, length: 1)
        let single = Tensor.batchNorm(xc, weight: nil, bias: nil)
        #expect(single.mean.scalars == [mu.scalars[c]] && single.variance.scalars == [variance.scalars[c]])
        #expect(single.output.scalars == y.narrowed(axis: 1, start: c, length: 1).scalars)
        #expect((single.output * cc).sum().backward()[xc]!.scalars == dx.narrowed(axis: 1, start: c, length: 1).scalars)
        let sc = Tensor.full([1], 0.25).trackingGradients()
        let singleFused = Tensor.batchNormPReLU(xc, weight: nil, bias: nil, slope: sc)
        #expect(singleFused.output.scalars == fused.output.narrowed(axis: 1, start: c, length: 1).scalars)
        let singleGradients = (singleFused.output * cc).sum().backward()
        #expect(singleGradients[xc]!.scalars == fusedGradients[x]!.narrowed(axis: 1, start: c, length: 1).scalars)
        #expect(singleGradients[sc]!.scalars == [fusedGradients[slope]!.scalars[c]])
    }
}
