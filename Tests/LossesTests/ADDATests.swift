import Testing
import Tensor
import Layers
@testable import Losses

/// A critic that returns its input as logits (for the test vectors).
final class IdentityCritic: Layer {
    func callAsFunction(_ x: Tensor) -> Tensor { x }
}

@Suite("ADDA")
struct ADDATests {
    /// methods.md §5, corenel label convention.
    @Test func objectivesReproduceVectors() {
        let source = Tensor([[0, 2], [1, 0]]), target = Tensor([[0.5, 0], [0, 1]])
        expectClose(ADDA.criticObjective(sourceLogits: source, targetLogits: target).item, 0.806882, "critic")
        expectClose(ADDA.encoderObjective(targetLogits: target).item, 0.643669, "encoder")
        let aS = Tensor([[2], [-1]]), aT = Tensor([[0.5], [-1]])
        expectClose(ADDA.criticObjective(sourceLogits: aS, targetLogits: aT).item, 1.36376, "single-logit critic")
        expectClose(ADDA.encoderObjective(targetLogits: aT).item, 0.893669, "single-logit encoder")
    }

    /// Accuracy from two logits (argmax) and from one (σ(a) > ½, i.e. a > 0): a single-logit critic
    /// read by argmax was always 0.5.
    @Test func criticAccuracyForOneAndTwoLogits() {
        let adda = ADDA(critic: IdentityCritic())
        func accuracy(source: Tensor, target: Tensor) -> Float? {
            adda.criticAccuracy(TransferContext(student: Features(embedding: target), teacher: Features(embedding: source)))
        }
        #expect(accuracy(source: Tensor([[2], [3]]), target: Tensor([[-1], [4]])) == 0.75)
        #expect(accuracy(source: Tensor([[2], [3]]), target: Tensor([[-1], [-4]])) == 1)
        #expect(accuracy(source: Tensor([[0, 1], [1, 0]]), target: Tensor([[1, 0], [0, 1]])) == 0.5)
        // A weighted sum reports its adversarial terms' mean accuracy, and nil without one.
        let context = TransferContext(student: Features(embedding: Tensor([[-1], [4]])), teacher: Features(embedding: Tensor([[2], [3]])))
        #expect(WeightedTransferLoss([(5, FeatureL2Transfer()), (1, adda), (1, ADDA(critic: IdentityCritic()))]).criticAccuracy(context) == 0.75)
        #expect(WeightedTransferLoss([(5, FeatureL2Transfer())]).criticAccuracy(context) == nil)
    }

    @Test func objectivesPassGradientCheck() {
        for width in [2, 1] {
            let s = randomTensor([3, width], seed: 65), t = randomTensor([4, width], seed: 66)
            expectGradientsMatch([s, t]) { ADDA.criticObjective(sourceLogits: $0[0], targetLogits: $0[1]) }
            expectGradientsMatch([t]) { ADDA.encoderObjective(targetLogits: $0[0]) }
        }
    }

    @Test func lossUsesContextAndDetachesCriticInputs() {
        let adda = ADDA(critic: IdentityCritic())
        let target = Tensor([[0.5, 0], [0, 1]]).trackingGradients()
        let ctx = TransferContext(student: Features(embedding: target), teacher: Features(embedding: Tensor([[0, 2], [1, 0]])))
        expectClose(adda.criticLoss(ctx).item, 0.806882, "critic")
        #expect(adda.criticLoss(ctx).backward()[target] == nil, "critic inputs are detached")
        expectClose(adda(ctx).item, 0.643669, "encoder")
        #expect(adda(ctx).backward()[target] != nil)
    }

    @Test func seedDiscriminatorShapesAndParameters() {
        var g = RandomGenerator(seed: 60)
        let adda = ADDA(embeddingDimension: 8, using: &g)
        let names = adda.namedParameters().map(\.name)
        #expect(names == ["critic.layer.0.weight", "critic.layer.0.bias", "critic.layer.1.weight", "critic.layer.2.weight",
                          "critic.layer.2.bias", "critic.layer.3.weight", "critic.layer.4.weight", "critic.layer.4.bias"])
        #expect(adda.criticParameters.count == 8 && adda.nonCriticParameters.isEmpty)
        #expect(adda.critic(Tensor.zeros([3, 8])).shape == [3, 2])
        let small = DomainDiscriminator(inputDimension: 3, hidden: [4, 2], activation: .prelu, using: &g)
        expectGradientsMatch([randomTensor([2, 3], seed: 61)]) { small($0[0]) }
    }

    /// The seed's MXNet route: critic forward on the features, backward, read the critic's
    /// *input* gradients, hand them to the encoder's `backward(gradient:)` — equals one pass.
    @Test func encoderGradientThroughCriticInputGradientsEqualsOneBackwardPass() {
        var g = RandomGenerator(seed: 62)
        let encoder = Linear(5, 4, using: &g)
        let adda = ADDA(critic: DomainDiscriminator(inputDimension: 4, hidden: [6, 6], activation: .prelu, using: &g))
        let images = randomTensor([3, 5], seed: 63), hr = randomTensor([3, 4], seed: 64)

        // One backward pass through encoder and critic.
        let features = encoder(images)
        let direct = adda(TransferContext(student: Features(embedding: features), teacher: Features(embedding: hr))).backward()

        // Two modules: the critic sees a leaf copy of the features.
        let encoded = encoder(images)
        let criticInput = encoded.detached().trackingGradients()
        let criticGrads = adda(TransferContext(student: Features(embedding: criticInput), teacher: Features(embedding: hr))).backward()
        let encoderGrads = encoded.backward(gradient: criticGrads[criticInput]!)

        expectClose(encoderGrads[encoder.weight]!.scalars, direct[encoder.weight]!.scalars, rtol: 1e-5, atol: 1e-7, "weight")
        expectClose(encoderGrads[encoder.bias!]!.scalars, direct[encoder.bias!]!.scalars, rtol: 1e-5, atol: 1e-7, "bias")
    }
}
