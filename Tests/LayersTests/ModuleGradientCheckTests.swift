import Testing
import Tensor
@testable import Layers

/// A user's own layer composed from library layers: conv → BN → PReLU, pooled, then linear
/// (the example of Docs/Models.md).
private final class ConvHead: Layer {
    let body: Sequential
    let fc: Linear

    init(using g: inout RandomGenerator) {
        body = Sequential(Conv2d(2, 3, kernelSize: 3, padding: 1, using: &g), BatchNorm2d(3), PReLU(3))
        fc = Linear(3, 2, using: &g)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { fc(body(x).globalAveragePool2d()) }
}

/// `x ⊙ scale` whose backward doubles the gradient of `scale`.
private final class WrongScale: Layer {
    let scale = Parameter(Tensor([0.5, -1.5, 2]))

    func callAsFunction(_ x: Tensor) -> Tensor {
        let s = scale.value, value = withoutGradients { x * s }
        let xs = x.detached(), ss = s.detached()
        return Tensor.recordOperation("wrongScale", value: value, inputs: [x, s]) { g in [g * ss, (g * xs).sum(alongAxes: [0]) * 2] }
    }
}

/// Every parameter and buffer value, bit for bit.
private func bits(of module: any Module) -> [String: [UInt32]] { module.stateDict().mapValues { $0.scalars.map(\.bitPattern) } }

@Suite struct ModuleGradientCheckTests {
    /// Docs/Models.md, "Checking a layer's gradients", as written.
    @Test func docsExample() {
        var g = RandomGenerator(seed: 2)
        let head = ConvHead(using: &g)
        let x = Tensor.randomNormal([2, 2, 4, 4], using: &g)
        for training in [true, false] {
            head.isTraining = training
            let report = GradientCheck.run([x], module: head) { t in head(t[0]) }
            #expect(report.passed, "\(report)")
        }
    }

    @Test(arguments: [true, false]) func composedLayerPassesAndIsLeftAsFound(training: Bool) {
        var g = RandomGenerator(seed: 71)
        let head = ConvHead(using: &g)
        let bn = head.body.layers[1] as! BatchNorm2d
        bn.weight!.value = Tensor([1.2, 0.8, -0.9])
        bn.bias!.value = Tensor([0.1, -0.2, 0.3])
        (head.body.layers[2] as! PReLU).weight.value = Tensor([0.2, -0.3, 0.5])
        withoutGradients { for _ in 0..<3 { _ = head(Tensor.randomNormal([2, 2, 4, 4], mean: 0.5, using: &g)) } }
        head.isTraining = training
        let x = Tensor.randomNormal([2, 2, 4, 4], using: &g)
        let state = bits(of: head)
        let leaves = head.parameters().map(\.value.node)

        let report = GradientCheck.run([x], module: head) { t in head(t[0]) }
        #expect(report.passed, "\(report)")
        #expect(report.checkedElements == 64 + 54 + 3 + 3 + 3 + 3 + 6 + 2)
        #expect(bits(of: head) == state)
        #expect(zip(head.parameters().map(\.value.node), leaves).allSatisfy { $0 === $1 })
        #expect(head.isTraining == training)
        if training {
            // What the module check saves it from: a plain check moves the running statistics.
            _ = GradientCheck.run([x]) { t in head(t[0]) }
            #expect(bits(of: head)["body.1.num_batches_tracked"] != state["body.1.num_batches_tracked"])
        }
    }

    @Test func wrongParameterGradientIsNamed() {
        var g = RandomGenerator(seed: 72)
        let model = Sequential(Linear(3, 3, using: &g), WrongScale())
        let state = bits(of: model)
        let report = GradientCheck.run([Tensor.randomNormal([2, 3], using: &g)], module: model) { t in model(t[0]) }
        #expect(!report.passed)
        #expect(report.worstTensor == "parameter 1.scale", "\(report)")
        #expect(bits(of: model) == state)
    }

    @Test func frozenParametersAreLeftOut() {
        var g = RandomGenerator(seed: 73)
        let model = Sequential(Linear(3, 4, using: &g), Tanh(), Linear(4, 2, using: &g))
        model.layers[0].freeze()
        let report = GradientCheck.run([Tensor.randomNormal([2, 3], using: &g)], module: model) { t in model(t[0]) }
        #expect(report.passed, "\(report)")
        #expect(report.checkedElements == 6 + 8 + 2)
    }

    /// In training mode every evaluation draws the same dropout masks (the generators are put
    /// back, as buffers are), so the check passes; the generators are left as found.
    @Test func dropoutIsCheckedInTrainingMode() {
        var g = RandomGenerator(seed: 74)
        let model = Sequential(Linear(3, 6, using: &g), Dropout(probability: 0.5, using: &g), Tanh(), Linear(6, 2, using: &g))
        let planes = Dropout2d(probability: 0.3, using: &g)
        for (module, x) in [(model as any Layer, Tensor.randomNormal([4, 3], using: &g)), (planes, Tensor.randomNormal([2, 4, 2, 2], using: &g))] {
            let generators = module.namedRandomizedModules().map(\.module.generator)
            let report = GradientCheck.run([x], module: module) { t in module(t[0]) * module(t[0]) }
            #expect(report.passed, "\(report)")
            #expect(module.namedRandomizedModules().map(\.module.generator) == generators)
        }
        #expect(model.namedRandomizedModules().map(\.name) == ["1"] && planes.namedRandomizedModules().map(\.name) == [""])
    }
}
