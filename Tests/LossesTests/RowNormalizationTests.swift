import Testing
import Tensor
@testable import Losses

@Suite("Row normalisation")
struct RowNormalizationTests {
    @Test func equalsComposedNormalisation() {
        let x = Tensor.concatenate([randomTensor([3, 20], seed: 80), Tensor.zeros([1, 20])], axis: 0)
        expectClose(normalizedRows(x).scalars, x.l2Normalized(axis: 1).scalars, "values")
        // Gradients agree on non-zero rows; on a zero row the composed form gives NaN (√ at 0)
        // while the fused one gives g/eps, PyTorch's `F.normalize` behaviour.
        let a = x.trackingGradients(), b = x.trackingGradients()
        let w = randomTensor([4, 20], seed: 81)
        let fused = (normalizedRows(a) * w).sum().backward()[a]!.scalars
        let composed = (b.l2Normalized(axis: 1) * w).sum().backward()[b]!.scalars
        expectClose(Array(fused[..<60]), Array(composed[..<60]), rtol: 1e-4, atol: 1e-5, "gradients")
        #expect(fused[60...].allSatisfy { $0.isFinite })
        expectGradientsMatch([randomTensor([3, 5], seed: 82)]) { normalizedRows($0[0]) }
    }
}
