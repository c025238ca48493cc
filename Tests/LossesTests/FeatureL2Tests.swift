import Testing
import Tensor
import Layers
@testable import Losses

@Suite("L2 feature transfer")
struct FeatureL2Tests {
    func context(_ s: Tensor, _ t: Tensor) -> TransferContext {
        TransferContext(student: Features(embedding: s), teacher: Features(embedding: t))
    }

    /// methods.md §1 vector 1: s = (3, 4), t = (1, 0), w = 5.
    @Test func singlePairVector() {
        let ctx = context(Tensor([[3, 4]]), Tensor([[1, 0]]))
        expectClose(5 * FeatureL2Transfer()(ctx).item, 4.0, "squared")
        expectClose(5 * FeatureL2Transfer(distance: .euclidean)(ctx).item, 4.47214, "euclidean")
        expectClose(5 * FeatureL2Transfer(distance: .cosine)(ctx).item, 2.0, "cosine = half the squared distance")
    }

    /// methods.md §1 vector 2: B = 2, value and gradient of 5·mean.
    @Test func batchVectorAndGradient() {
        let s = Tensor([[1, 2, 2], [0, 3, 4]]).trackingGradients(), t = Tensor([[2, 1, 2], [0, 0, 1]])
        let l2 = FeatureL2Transfer()
        expectClose(l2.distances(student: s, teacher: t).scalars, [0.222222, 0.4], "per sample")
        let loss = WeightedTransferLoss([(5, l2)])(context(s, t))
        expectClose(loss.item, 1.55556, "5·mean")
        expectClose(loss.backward()[s]!.scalars, [-0.617284, 0.432099, -0.123457, 0, 0.48, -0.36], atol: 1e-5, "gradient")
    }

    @Test func zeroForIdenticalFeatures() {
        let x = randomTensor([4, 6], seed: 10)
        for distance in FeatureL2Transfer.Distance.allCases {
            expectClose(FeatureL2Transfer(distance: distance)(context(x, x)).item, 0, atol: 1e-5, "\(distance)")
        }
    }

    @Test func projectionWhenDimensionsDiffer() {
        var g = RandomGenerator(seed: 11)
        let l2 = FeatureL2Transfer(studentDimension: 3, teacherDimension: 5, using: &g)
        #expect(l2.namedParameters().map(\.name) == ["projection.weight"])
        #expect(FeatureL2Transfer(studentDimension: 4, teacherDimension: 4, using: &g).parameters().isEmpty)
        let s = randomTensor([2, 3], seed: 12), t = randomTensor([2, 5], seed: 13)
        let w = l2.projection!.weight.value.detached()
        func loss(_ x: Tensor, _ w: Tensor) -> Tensor { FeatureL2Transfer()(context(x.matmul(w, transposeOther: true), t)) }
        expectGradientsMatch([s, w]) { loss($0[0], $0[1]) }
        let wLeaf = w.trackingGradients()
        expectClose(l2(context(s, t)).backward()[l2.projection!.weight]!.scalars, loss(s, wLeaf).backward()[wLeaf]!.scalars, "projection gradient")
    }

    @Test func gradientCheckOnRandomInputs() {
        let s = randomTensor([3, 4], seed: 14), t = randomTensor([3, 4], seed: 15)
        for distance in FeatureL2Transfer.Distance.allCases {
            expectGradientsMatch([s]) { FeatureL2Transfer(distance: distance)(context($0[0], t)) }
        }
    }
}
