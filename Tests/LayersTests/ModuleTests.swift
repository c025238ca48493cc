import Testing
import Tensor
@testable import Layers

/// A stand-in for a mode-dependent layer (BatchNorm-like) with camelCase state.
private final class Stateful: Layer {
    var isTraining = true
    let scale: Parameter
    let runningMean: Buffer
    init() {
        scale = Parameter(Tensor([1, 2]))
        runningMean = Buffer(Tensor([0, 0]))
    }
    func callAsFunction(_ x: Tensor) -> Tensor { recorded(x * scale.value) }
}

private final class Net: Layer {
    let fc1: Linear
    let blocks: [Stateful]
    let head: Linear?
    let missing: Linear? = nil
    let sizes = [3, 4]
    init(using g: inout RandomGenerator) {
        fc1 = Linear(3, 2, using: &g)
        blocks = [Stateful(), Stateful()]
        head = Linear(2, 1, bias: false, using: &g)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = fc1(x)
        for b in blocks { y = b(y) }
        return head!(y)
    }
}

@Test func reflectionFindsDottedSnakeCaseNames() {
    var g = RandomGenerator(seed: 1)
    let net = Net(using: &g)
    #expect(net.namedParameters().map(\.name) == ["fc1.weight", "fc1.bias", "blocks.0.scale", "blocks.1.scale", "head.weight"])
    #expect(net.namedBuffers().map(\.name) == ["blocks.0.running_mean", "blocks.1.running_mean"])
    #expect(net.namedChildren().map(\.name) == ["fc1", "blocks.0", "blocks.1", "head"])
    #expect(net.parameterCount == 6 + 2 + 2 + 2 + 2)
    #expect(ModuleReflection.stateName("convSep") == "conv_sep")
    #expect(ModuleReflection.stateName("numBatchesTracked") == "num_batches_tracked")
}

@Test func trainEvalFreeze() {
    var g = RandomGenerator(seed: 1)
    let net = Net(using: &g)
    #expect(net.isTraining)
    net.eval()
    #expect(!net.isTraining && !net.blocks[1].isTraining)
    net.train()
    #expect(net.blocks.allSatisfy { $0.isTraining })
    net.freeze()
    #expect(net.trainableParameterCount == 0)
    let y = net(Tensor([[1, 2, 3]])).sum()
    #expect(!y.requiresGradient)
    net.unfreeze()
    #expect(net.trainableParameterCount == net.parameterCount)
    let grads = net(Tensor([[1, 2, 3]])).sum().backward()
    let covered = net.parameters().allSatisfy { grads[$0] != nil }
    #expect(covered)
}

@Test func summaryListsLayersWithShapes() {
    var g = RandomGenerator(seed: 1)
    let net = Net(using: &g)
    net.blocks[0].isTraining = false
    let text = net.summary(inputShape: [5, 3])
    #expect(text.contains("fc1") && text.contains("[5, 2]") && text.contains("[5, 1]"))
    #expect(text.contains("Total parameters: 14"))
    #expect(!net.blocks[0].isTraining && net.blocks[1].isTraining)  // modes restored
}
