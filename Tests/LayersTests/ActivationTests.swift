import Testing
import Tensor
@testable import Layers

/// Values bounded away from 0, so kinks do not disturb finite differences.
private func awayFromZero(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor {
    let t = Tensor.randomUniform(shape, low: 0.1, high: 1, using: &g)
    let s = Tensor.randomUniform(shape, low: -1, high: 1, using: &g)
    return t * s.sign()
}

@Test func preluMatchesFormulaAndGradients() {
    var g = RandomGenerator(seed: 21)
    let x = awayFromZero([2, 3, 2, 3], &g)
    let prelu = PReLU(3)
    prelu.weight.value = Tensor([0.25, -0.5, 2])
    let y = prelu(x)
    let xs = x.scalars, ys = y.scalars
    for i in xs.indices {
        let a: Float = [0.25, -0.5, 2][(i / 6) % 3]
        #expect(ys[i] == (xs[i] > 0 ? xs[i] : a * xs[i]))
    }
    let slopes = Tensor([0.25, -0.5, 2])
    let report = GradientCheck.run([x, slopes]) { t in t[0].prelu(slope: t[1]) }
    #expect(report.passed, "\(report)")
    let shared = GradientCheck.run([awayFromZero([4, 5], &g), Tensor([0.3])]) { t in t[0].prelu(slope: t[1]) }
    #expect(shared.passed, "\(shared)")
    let layer = GradientCheck.run([x]) { t in prelu(t[0]) }
    #expect(layer.passed, "\(layer)")
    #expect(prelu.namedParameters().map(\.name) == ["weight"])
}

@Test func activationLayersPassGradientCheck() {
    var g = RandomGenerator(seed: 22)
    let x = awayFromZero([3, 4], &g)
    let layers: [any Layer] = [ReLU(), LeakyReLU(negativeSlope: 0.2), Sigmoid(), Tanh(), Identity(), Flatten()]
    for layer in layers {
        let report = GradientCheck.run([x]) { t in layer(t[0]) }
        #expect(report.passed, "\(type(of: layer)): \(report)")
    }
    #expect(LeakyReLU(negativeSlope: 0.2)(Tensor([[-1, 2]])).scalars == [-0.2, 2])
}

@Test func linearMatchesDefinitionAndGradients() {
    var g = RandomGenerator(seed: 23)
    let fc = Linear(4, 3, using: &g)
    let x = Tensor.randomNormal([2, 4], using: &g)
    let expected = x.matmul(fc.weight.value.detached(), transposeOther: true) + fc.bias!.value.detached()
    #expect(zip(fc(x).scalars, expected.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    // Default init bound 1/√in.
    #expect(fc.weight.value.scalars.allSatisfy { abs($0) <= 0.5 })
    let report = GradientCheck.run([x]) { t in fc(t[0]) }
    #expect(report.passed, "\(report)")
    let functional = GradientCheck.run([x, fc.weight.value, fc.bias!.value]) { t in t[0].matmul(t[1], transposeOther: true) + t[2] }
    #expect(functional.passed, "\(functional)")
    // Rank-3 input [B, T, in].
    #expect(fc(Tensor.zeros([2, 5, 4])).shape == [2, 5, 3])
    let noBias = Linear(4, 2, bias: false, using: &g)
    #expect(noBias.namedParameters().map(\.name) == ["weight"] && noBias.parameterCount == 8)
}

@Test func conv2dLayerPassesGradientCheck() {
    var g = RandomGenerator(seed: 24)
    let conv = Conv2d(2, 3, kernelSize: 3, stride: 2, padding: 1, using: &g)
    let x = Tensor.randomNormal([1, 2, 5, 5], using: &g)
    let report = GradientCheck.run([x]) { t in conv(t[0]) }
    #expect(report.passed, "\(report)")
    #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(conv(x).shape == [1, 3, 3, 3])
    let depthwise = Conv2d(4, 4, kernelSize: 3, padding: 1, groups: 4, bias: false, using: &g)
    #expect(depthwise.weight.shape == [4, 1, 3, 3] && depthwise.bias == nil)
    let dwReport = GradientCheck.run([Tensor.randomNormal([1, 4, 4, 4], using: &g)]) { t in depthwise(t[0]) }
    #expect(dwReport.passed, "\(dwReport)")
}
