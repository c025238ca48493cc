import Testing
import Tensor
import Layers
@testable import Losses

@Suite("Gradient reversal and DANN")
struct DomainAdversarialTests {
    @Test func scheduleValues() {
        let expected: [(Float, Float)] = [(0, 0), (0.1, 0.462117), (0.25, 0.848284), (0.5, 0.986614), (1, 0.999909)]
        for (p, lambda) in expected { expectClose(DANNSchedule.lambda(progress: p), lambda, atol: 1e-6, "λ(\(p))") }
    }

    @Test func reversalIsIdentityForwardAndScaledNegativeBackward() {
        let x = Tensor([3, -4]).trackingGradients()
        let y = gradientReversal(x, lambda: 0.5)
        #expect(y.scalars == [3, -4])
        expectClose(y.backward(gradient: Tensor([1, -2]))[x]!.scalars, [-0.5, 1.0], "−λ·g")
        let layer = GradientReversal(lambda: 2), z = Tensor([0.3, -0.7]).trackingGradients()
        #expect(layer(z).scalars == z.scalars)
        expectClose((layer(z) * 3).sum().backward()[z]!.scalars, [-6, -6], "layer")
    }

    @Test func dannDomainLoss() {
        var g = RandomGenerator(seed: 50)
        let head = DomainDiscriminator(inputDimension: 3, hidden: [4], activation: .relu, using: &g)
        let dann = DANN(domainHead: head, strength: .constant(0.7))
        let hr = randomTensor([3, 3], seed: 51), lr = randomTensor([2, 3], seed: 52).trackingGradients()
        let ctx = TransferContext(student: Features(embedding: lr), source: Features(embedding: hr))
        let loss = dann(ctx)
        let plain = softmaxCrossEntropy(logits: head(Tensor.concatenate([hr, lr], axis: 0)), labels: [0, 0, 0, 1, 1])
        expectClose(loss.item, plain.item, "value = domain CE")
        // The encoder sees −λ times the plain gradient; the head its ordinary gradient.
        let reversed = loss.backward(), ordinary = plain.backward()
        expectClose(reversed[lr]!.scalars, ordinary[lr]!.scalars.map { -0.7 * $0 }, "reversed")
        expectClose(reversed[(head.layer[0] as! Linear).weight]!.scalars, ordinary[(head.layer[0] as! Linear).weight]!.scalars, "head")
        #expect(DANN(domainHead: head).lambda(progress: 0.5) == DANNSchedule.lambda(progress: 0.5))
    }
}
