import Testing
import Tensor
import Layers
@testable import Losses

@Suite("Guided-CNN")
struct GuidedCNNTests {
    func head(seed: UInt64) -> MarginHead {
        var g = RandomGenerator(seed: seed)
        let head = MarginHead.arcFace(classes: 4, embeddingDimension: 3, scale: 8, using: &g)
        head.weight.value = randomTensor([4, 3], seed: seed + 100)
        return head
    }

    /// With the identity terms off, the cross-resolution pull is §1's L2 transfer (w = 5).
    @Test func crossFeatureTermReproducesL2Vector() {
        let guided = GuidedCNN(head: head(seed: 1), guideIdentityWeight: 0, learnerIdentityWeight: 0)
        let s = Tensor([[1, 2, 2], [0, 3, 4]]).trackingGradients(), t = Tensor([[2, 1, 2], [0, 0, 1]])
        let loss = guided(TransferContext(student: Features(embedding: s), teacher: Features(embedding: t), labels: [0, 1]))
        expectClose(loss.item, 1.55556, "5·mean L2")
        expectClose(loss.backward()[s]!.scalars, [-0.617284, 0.432099, -0.123457, 0, 0.48, -0.36], atol: 1e-5, "gradient")
    }

    @Test func sharedHeadSumsIdentityLosses() {
        let h = head(seed: 2)
        let s = randomTensor([3, 3], seed: 3), t = randomTensor([3, 3], seed: 4), labels = [0, 3, 1]
        let loss = GuidedCNN(head: h)(TransferContext(student: Features(embedding: s), teacher: Features(embedding: t), labels: labels))
        let expected = h.loss(t, labels: labels).item + h.loss(s, labels: labels).item
            + 5 * FeatureL2Transfer().distances(student: s, teacher: t).mean().item
        expectClose(loss.item, expected, "sum of terms")
    }

    /// A co-trained guide gets gradient only from its own identity loss.
    @Test func coTrainedGuideOnlyLearnsFromItsOwnLoss() {
        let guide = head(seed: 5), learner = head(seed: 6)
        let s = randomTensor([3, 3], seed: 7), t = randomTensor([3, 3], seed: 8).trackingGradients(), labels = [2, 2, 0]
        let guided = GuidedCNN(head: guide, learnerHead: learner, crossIdentityWeight: 0.5)
        let grads = guided(TransferContext(student: Features(embedding: s), teacher: Features(embedding: t), labels: labels)).backward()
        let t2 = t.detached().trackingGradients()
        let own = guide.loss(t2, labels: labels).backward()
        expectClose(grads[t]!.scalars, own[t2]!.scalars, "∂/∂guide feature")
        expectClose(grads[guide.weight]!.scalars, own[guide.weight]!.scalars, "∂/∂guide head")
        #expect(guided.namedParameters().map(\.name) == ["head.weight", "learner_head.weight"])
    }

    /// A shared head learns from both identity losses; the guide's feature still only from its own
    /// (detached in the pull), unless `detachesGuide` is off.
    @Test func sharedHeadLearnsFromBothIdentityLosses() {
        let h = head(seed: 11)
        let s = randomTensor([3, 3], seed: 12), t = randomTensor([3, 3], seed: 13).trackingGradients(), labels = [1, 0, 1]
        let context = TransferContext(student: Features(embedding: s), teacher: Features(embedding: t), labels: labels)
        let grads = GuidedCNN(head: h)(context).backward()
        let t2 = t.detached().trackingGradients()
        let both = (h.loss(t2, labels: labels) + h.loss(s, labels: labels)).backward()
        expectClose(grads[h.weight]!.scalars, both[h.weight]!.scalars, "∂/∂shared head")
        expectClose(grads[t]!.scalars, both[t2]!.scalars, "∂/∂guide feature")
        let attached = GuidedCNN(head: h, detachesGuide: false)(context).backward()
        let pulled = zip(attached[t]!.scalars, both[t2]!.scalars).contains { abs($0 - $1) > 1e-4 }
        #expect(pulled, "without detachesGuide the pull reaches the guide's feature")
    }

    /// Occlusion is just another degraded view: nothing in the loss depends on how it was made.
    @Test func acceptsOccludedViews() {
        let h = head(seed: 9)
        let clean = randomTensor([2, 3], seed: 10)
        let occluded = clean * Tensor([[1, 0, 1]])  // an embedding of a partly masked face
        let guided = GuidedCNN(head: h)
        let value = guided(TransferContext(student: Features(embedding: occluded), teacher: Features(embedding: clean), labels: [1, 2]))
        #expect(value.item.isFinite && value.item > 0)
        expectGradientsMatch([occluded]) {
            guided(TransferContext(student: Features(embedding: $0[0]), teacher: Features(embedding: clean), labels: [1, 2]))
        }
    }
}
