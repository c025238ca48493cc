import Testing
import Tensor
@testable import Layers

@Test func dropoutScalesKeptUnitsAndIsReproducible() {
    var g = RandomGenerator(seed: 41)
    let dropout = Dropout(probability: 0.25, using: &g)
    let x = Tensor.ones([100, 40])
    let y = dropout(x).scalars
    let zeros = y.filter { $0 == 0 }.count
    #expect(y.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
    #expect(abs(Double(zeros) / 4000 - 0.25) < 0.03)
    var g2 = RandomGenerator(seed: 41)
    #expect(Dropout(probability: 0.25, using: &g2)(x).scalars == y)
    dropout.eval()
    #expect(dropout(x).scalars == x.scalars)
    // Gradient: the same mask scales the gradient (the check draws masks, so compare by hand).
    dropout.train()
    let leaf = x.trackingGradients()
    let out = dropout(leaf)
    let grad = out.sum().backward()[leaf]!
    #expect(grad.scalars == out.scalars)
}

@Test func dropout2dDropsWholePlanes() {
    var g = RandomGenerator(seed: 42)
    let dropout = Dropout2d(probability: 0.5, using: &g)
    let y = dropout(Tensor.ones([4, 8, 3, 3]))
    let ys = y.scalars
    for plane in 0..<32 {
        let values = Set(ys[(plane * 9)..<((plane + 1) * 9)])
        #expect(values == [0] || values == [2])
    }
    #expect(Set(ys).count == 2)
    // Training mode, its mask held fixed (the generator restored before every evaluation): the
    // gradient is the mask, dropped planes included.
    let saved = dropout.generator
    let training = GradientCheck.run([Tensor.randomNormal([2, 3, 2, 2], using: &g)]) { t in
        dropout.generator = saved
        return dropout(t[0])
    }
    #expect(training.passed && training.checkedElements > 0, "\(training)")
    dropout.eval()
    let report = GradientCheck.run([Tensor.randomNormal([1, 2, 2, 2], using: &g)]) { t in dropout(t[0]) }
    #expect(report.passed, "\(report)")
}
