import Testing
import Tensor
@testable import Layers

@Test func sequentialNamesChildrenByIndex() {
    var g = RandomGenerator(seed: 51)
    let useNorm = true
    let block = Sequential {
        Conv2d(2, 4, kernelSize: 3, padding: 1, bias: false, using: &g)
        if useNorm { BatchNorm2d(4) }
        PReLU(4)
        for _ in 0..<2 { Identity() }
    }
    #expect(block.count == 5)
    #expect(block.namedParameters().map(\.name) == ["0.weight", "1.weight", "1.bias", "2.weight"])
    #expect(block.namedBuffers().map(\.name) == ["1.running_mean", "1.running_var", "1.num_batches_tracked"])
    let x = Tensor.randomNormal([2, 2, 3, 3], using: &g)
    #expect(block(x).shape == [2, 4, 3, 3])
    block.eval()
    let report = GradientCheck.run([x]) { t in block(t[0]) }
    #expect(report.passed, "\(report)")
}

@Test func residualAddsShortcut() {
    var g = RandomGenerator(seed: 52)
    let identity = Residual(Sequential(Linear(3, 3, using: &g), Tanh()))
    let projected = Residual(Linear(3, 2, using: &g), shortcut: Linear(3, 2, bias: false, using: &g))
    #expect(projected.namedParameters().map(\.name) == ["body.weight", "body.bias", "shortcut.weight"])
    let x = Tensor.randomNormal([2, 3], using: &g)
    let body = (identity.body as! Sequential)(x)
    #expect(zip(identity(x).scalars, (body + x).scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    for layer in [identity, projected] {
        let report = GradientCheck.run([x]) { t in layer(t[0]) }
        #expect(report.passed, "\(report)")
    }
}
