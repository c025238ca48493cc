import Testing
import Tensor
@testable import Layers

/// Per-channel mean and biased/unbiased variance of an [N, C, …] tensor, in double precision.
private func channelStatistics(_ x: Tensor) -> (mean: [Double], biased: [Double], unbiased: [Double]) {
    let n = x.shape[0], c = x.shape[1], inner = x.count / (n * c)
    let v = x.scalars
    var mean = [Double](repeating: 0, count: c), biased = mean, unbiased = mean
    for ch in 0..<c {
        var values: [Double] = []
        for b in 0..<n { for i in 0..<inner { values.append(Double(v[(b * c + ch) * inner + i])) } }
        let m = values.reduce(0, +) / Double(values.count)
        let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        mean[ch] = m
        biased[ch] = ss / Double(values.count)
        unbiased[ch] = ss / Double(values.count - 1)
    }
    return (mean, biased, unbiased)
}

private func close(_ a: [Float], _ b: [Double], _ tolerance: Double = 1e-4) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
}

@Test func batchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnes() {
    var g = RandomGenerator(seed: 11)
    let bn = BatchNorm2d(3)
    bn.weight!.value = Tensor([2, 0.5, -1])
    bn.bias!.value = Tensor([0.1, 0.2, 0.3])
    let x = Tensor.randomNormal([4, 3, 3, 5], mean: 1.5, standardDeviation: 2, using: &g)
    let y = bn(x)
    let stats = channelStatistics(x)
    // y = (x − μ)/√(σ² + ε)·γ + β with the biased batch variance.
    let xs = x.scalars, gamma: [Double] = [2, 0.5, -1], beta: [Double] = [0.1, 0.2, 0.3]
    let expected = xs.indices.map { i -> Double in
        let ch = (i / 15) % 3
        return (Double(xs[i]) - stats.mean[ch]) / (stats.biased[ch] + 1e-5).squareRoot() * gamma[ch] + beta[ch]
    }
    #expect(close(y.scalars, expected))
    // Running statistics: momentum 0.1, unbiased variance, counter 1.
    #expect(close(bn.runningMean!.value.scalars, stats.mean.map { 0.1 * $0 }))
    #expect(close(bn.runningVar!.value.scalars, stats.unbiased.map { 0.9 + 0.1 * $0 }))
    #expect(bn.numBatchesTracked!.value.item == 1)
    #expect(bn.namedBuffers().map(\.name) == ["running_mean", "running_var", "num_batches_tracked"])
    #expect(bn.namedParameters().map(\.name) == ["weight", "bias"])
}

@Test func batchNormEvalUsesRunningStatisticsAndLeavesThemAlone() {
    var g = RandomGenerator(seed: 12)
    let bn = BatchNorm1d(2)
    bn.runningMean!.value = Tensor([1, -2])
    bn.runningVar!.value = Tensor([4, 0.25])
    bn.eval()
    let x = Tensor.randomNormal([5, 2], using: &g)
    let y = bn(x)
    let xs = x.scalars
    let expected = xs.indices.map { i -> Double in
        let ch = i % 2
        return (Double(xs[i]) - [1.0, -2.0][ch]) / ([4.0, 0.25][ch] + 1e-5).squareRoot()
    }
    #expect(close(y.scalars, expected))
    #expect(bn.runningMean!.value.scalars == [1, -2] && bn.numBatchesTracked!.value.item == 0)
}

@Test func batchNormCumulativeAverageWithoutMomentum() {
    var g = RandomGenerator(seed: 13)
    let bn = BatchNorm1d(2, momentum: nil)
    let a = Tensor.randomNormal([6, 2, 3], using: &g), b = Tensor.randomNormal([6, 2, 3], mean: 3, using: &g)
    _ = bn(a)
    _ = bn(b)
    let sa = channelStatistics(a), sb = channelStatistics(b)
    #expect(close(bn.runningMean!.value.scalars, zip(sa.mean, sb.mean).map { ($0 + $1) / 2 }))
    // First step replaces the initial ones entirely (m = 1), the second averages.
    #expect(close(bn.runningVar!.value.scalars, zip(sa.unbiased, sb.unbiased).map { ($0 + $1) / 2 }))
    #expect(bn.numBatchesTracked!.value.item == 2)
}

@Test func batchNormWithoutAffineOrRunningStatistics() {
    var g = RandomGenerator(seed: 14)
    let bn = BatchNorm2d(2, affine: false, trackRunningStats: false)
    #expect(bn.namedParameters().isEmpty && bn.namedBuffers().isEmpty)
    bn.eval()  // still batch statistics
    let x = Tensor.randomNormal([2, 2, 2, 2], mean: 5, using: &g)
    let stats = channelStatistics(bn(x))
    #expect(stats.mean.allSatisfy { abs($0) < 1e-5 } && stats.biased.allSatisfy { abs($0 - 1) < 1e-3 })
}

/// One value per channel normalised with batch statistics (training, or evaluating without running
/// statistics) is refused as in PyTorch, instead of returning β.
@Test func oneValuePerChannelWithBatchStatisticsStops() async throws {
    let result = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = BatchNorm1d(3, trackRunningStats: false).eval()(Tensor([[1, 2, 3]]))
    })
    #expect(String(decoding: result.standardErrorContent, as: UTF8.self).contains("expected more than 1 value per channel when normalising with batch statistics"))
}

/// BatchNorm1d after a Conv2d (rank 4) ran through the fused evaluation path and trapped only in
/// training; PyTorch refuses it in both modes.
@Test func batchNorm1dAfterAConvolutionStopsInEvaluationToo() async throws {
    let result = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var g = RandomGenerator(seed: 1)
        _ = Sequential(Conv2d(3, 4, kernelSize: 1, using: &g), BatchNorm1d(4)).eval()(Tensor.zeros([2, 3, 5, 5]))
    })
    #expect(String(decoding: result.standardErrorContent, as: UTF8.self).contains("input of a Conv2d has rank 4, this layer takes rank [2, 3]"))
}

/// Branches the other checks leave out: BatchNorm and BatchNorm + PReLU without γ and β (1 and 0
/// in the kernels), in both modes, one slope shared by every channel, and PReLU's slope gradient
/// over planes of 8 values and more (its vector loop).
@Test func gradientsWithoutAffineParametersAndOnWidePlanes() {
    var g = RandomGenerator(seed: 23)
    let x = Tensor.randomNormal([3, 2, 2, 3], using: &g)
    let mean = Tensor([0.3, -0.1]), variance = Tensor([1.2, 0.8]), slope = Tensor([0.25, 0.6])
    let reports = [
        ("batchNorm", GradientCheck.run([x]) { t in Tensor.batchNorm(t[0], weight: nil, bias: nil).output }),
        ("batchNorm inference", GradientCheck.run([x]) { t in Tensor.batchNorm(t[0], mean: mean, variance: variance, weight: nil, bias: nil) }),
        ("batchNormPReLU", GradientCheck.run([x, slope]) { t in Tensor.batchNormPReLU(t[0], weight: nil, bias: nil, slope: t[1]).output }),
        ("batchNormPReLU inference, shared slope", GradientCheck.run([x, Tensor([0.3])]) { t in
            Tensor.batchNormPReLU(t[0], mean: mean, variance: variance, weight: nil, bias: nil, slope: t[1])
        }),
        ("prelu, 16-value planes", GradientCheck.run([Tensor.randomNormal([2, 3, 4, 4], using: &g), Tensor([0.2, 0.5, -0.3])]) { t in
            t[0].prelu(slope: t[1])
        }),
    ]
    for (name, report) in reports { #expect(report.passed, "\(name): \(report)") }
}

@Test func batchNormGradientsInBothModes() {
    var g = RandomGenerator(seed: 15)
    let x = Tensor.randomNormal([3, 2, 2, 3], using: &g)
    let gamma = Tensor([1.5, -0.7]), beta = Tensor([0.2, 0.4])
    let training = GradientCheck.run([x, gamma, beta]) { t in Tensor.batchNorm(t[0], weight: t[1], bias: t[2]).output }
    #expect(training.passed, "\(training)")
    let mean = Tensor([0.3, -0.1]), variance = Tensor([1.2, 0.8])
    let inference = GradientCheck.run([x, gamma, beta]) { t in
        Tensor.batchNorm(t[0], mean: mean, variance: variance, weight: t[1], bias: t[2])
    }
    #expect(inference.passed, "\(inference)")
    let vector = Tensor.randomNormal([4, 3], using: &g)
    let bn = BatchNorm1d(3)
    let layer = GradientCheck.run([vector]) { t in bn(t[0]) }
    #expect(layer.passed, "\(layer)")
    bn.eval()
    let layerEval = GradientCheck.run([vector]) { t in bn(t[0]) }
    #expect(layerEval.passed, "\(layerEval)")
    // The layer's parameter gradients: dγ = Σ dy·x̂, dβ = Σ dy.
    bn.train()
    let cot = Tensor.randomNormal([4, 3], using: &g)
    let grads = (bn(vector) * cot).sum().backward()
    let stats = channelStatistics(vector)
    let xs = vector.scalars, cs = cot.scalars
    var dGamma = [Double](repeating: 0, count: 3), dBeta = dGamma
    for i in xs.indices {
        let ch = i % 3
        dGamma[ch] += Double(cs[i]) * (Double(xs[i]) - stats.mean[ch]) / (stats.biased[ch] + 1e-5).squareRoot()
        dBeta[ch] += Double(cs[i])
    }
    #expect(close(grads[bn.weight!]!.scalars, dGamma) && close(grads[bn.bias!]!.scalars, dBeta))
}

@Test(arguments: [true, false])
func fusedBatchNormPReLUMatchesComposition(_ perChannelSlope: Bool) {
    var g = RandomGenerator(seed: 16)
    let x = Tensor.randomNormal([3, 2, 3, 4], using: &g).trackingGradients()
    let gamma = Tensor([1.3, -0.6]).trackingGradients(), beta = Tensor([0.2, -0.1]).trackingGradients()
    let slope = (perChannelSlope ? Tensor([0.25, -0.4]) : Tensor([0.3])).trackingGradients()
    let mean = Tensor([0.1, -0.2]), variance = Tensor([0.9, 1.4])
    let cot = Tensor.randomNormal([3, 2, 3, 4], using: &g)
    let cases: [(String, Tensor, Tensor)] = [
        ("training", Tensor.batchNormPReLU(x, weight: gamma, bias: beta, slope: slope).output,
         Tensor.batchNorm(x, weight: gamma, bias: beta).output.prelu(slope: slope)),
        ("inference", Tensor.batchNormPReLU(x, mean: mean, variance: variance, weight: gamma, bias: beta, slope: slope),
         Tensor.batchNorm(x, mean: mean, variance: variance, weight: gamma, bias: beta).prelu(slope: slope)),
    ]
    for (mode, fused, composed) in cases {
        #expect(zip(fused.scalars, composed.scalars).allSatisfy { abs($0 - $1) < 1e-5 }, "\(mode) forward")
        let gf = (fused * cot).sum().backward(), gc = (composed * cot).sum().backward()
        for (name, t) in [("x", x), ("gamma", gamma), ("beta", beta), ("slope", slope)] {
            let a = gf[t]!.scalars, b = gc[t]!.scalars
            #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 * max(1, abs($1)) }, "\(mode) d\(name): \(a) vs \(b)")
        }
    }
    let report = GradientCheck.run([x, gamma, beta, slope]) { t in Tensor.batchNormPReLU(t[0], weight: t[1], bias: t[2], slope: t[3]).output }
    #expect(report.passed, "\(report)")
}

@Test func batchNormFollowedByPReLUUpdatesRunningStatistics() {
    var g = RandomGenerator(seed: 17)
    let fused = BatchNorm2d(3), plain = BatchNorm2d(3), prelu = PReLU(3)
    let x = Tensor.randomNormal([2, 3, 4, 4], mean: 1, using: &g)
    let a = fused(x, followedBy: prelu), b = prelu(plain(x))
    #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) < 1e-5 })
    #expect(fused.runningVar!.value.scalars == plain.runningVar!.value.scalars)
    #expect(fused.numBatchesTracked!.value.item == 1)
}
