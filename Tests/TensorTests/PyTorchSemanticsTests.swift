import Foundation
import Testing
@testable import Tensor

/// Behaviour where the operations departed from PyTorch's without saying so (review helper-31).
struct PyTorchSemanticsTests {
    /// A batch of 0 matrices ran one GEMM over storage of no elements and returned batch 1.
    @Test func emptyBatchMatmul() {
        let a = Tensor.zeros([0, 2, 3]).trackingGradients(), w = Tensor.ones([3, 4]).trackingGradients()
        let y = a.matmul(w)
        #expect(y.shape == [0, 2, 4])
        #expect(Tensor.ones([2, 3]).matmul(Tensor.zeros([0, 3, 4])).shape == [0, 2, 4])
        let grads = y.sum().backward()
        #expect(grads[a]?.shape == [0, 2, 3])
        #expect(grads[w]?.shape == [3, 4] && grads[w]?.scalars.allSatisfy { $0 == 0 } == true)
    }

    /// ReLU turned NaN into 0, hiding a diverged value.
    @Test func reluKeepsNaN() {
        #expect(Tensor([.nan, -1, 2]).relu().scalars[0].isNaN)
        #expect(Array(Tensor([.nan, -1, 2]).relu().scalars[1...]) == [0, 2])
    }

    /// `x / b` was `x · (1/b)`: infinite for tiny `b`, and a rounding off true division.
    @Test func divisionByAScalarIsTrueDivision() {
        #expect(abs((Tensor([1e-3]) / Float(1e-39)).item / 1e36 - 1) < 1e-5)
        let x = Tensor.arange(0, 256)
        #expect((x / 255).scalars == (x / Tensor(255)).scalars)
        let t = Tensor([2, 4]).trackingGradients()
        #expect((t / 4).sum().backward()[t]?.scalars == [0.25, 0.25])
    }

    /// `pow` gradients at `0⁰` were NaN (`0 · 0⁻¹`); PyTorch gives 0.
    @Test func powGradientsAtZero() {
        let x = Tensor([0, 2]).trackingGradients()
        #expect(x.pow(0).sum().backward()[x]?.scalars == [0, 0])
        let a = Tensor([0, 0, 2]).trackingGradients(), b = Tensor([0, 2, 3]).trackingGradients()
        let grads = Tensor.pow(a, b).sum().backward()
        #expect(grads[a]?.scalars == [0, 0, 12])
        #expect(grads[b]?.scalars[0] == 0 && grads[b]?.scalars[1] == 0)
        #expect(abs((grads[b]?.scalars[2] ?? 0) - 8 * Float(log(2.0))) < 1e-5)
    }

    /// `argmax` skipped NaN, so it did not point at what `max` returns.
    @Test func argExtremesPointAtNaN() {
        #expect(Tensor([1, .nan, 3]).argmax(alongAxis: 0) == [1])
        #expect(Tensor([.nan, 1, 3]).argmax(alongAxis: 0) == [0])
        #expect(Tensor([1, .nan, -3]).argmin(alongAxis: 0) == [1])
        #expect(Tensor([[1, 5], [4, 2]]).argmax(alongAxis: 1) == [1, 0])
    }

    /// `low + (high − low)·u` rounded up to `high` for the largest `u`.
    @Test func uniformSamplesStayBelowHigh() {
        let largest: Float = 1 - 0x1p-24
        for (low, high): (Float, Float) in [(1, 2), (0.5, 1), (2, 3), (-1, 1)] {
            #expect(Tensor.uniform(largest, low: low, high: high) < high, "[\(low), \(high))")
            #expect(Tensor.uniform(0, low: low, high: high) == low)
        }
        #expect(Tensor.uniform(0.5, low: 3, high: 3) == 3)
    }

    /// A decoded generator state of zeros gave zeros forever; one word trapped on the first draw.
    @Test func corruptGeneratorStatesAreRefused() throws {
        for json in [#"{"state":[0,0,0,0]}"#, #"{"state":[1]}"#] {
            #expect(throws: DecodingError.self, "\(json)") { try JSONDecoder().decode(RandomGenerator.self, from: Data(json.utf8)) }
        }
        let saved = try JSONEncoder().encode(RandomGenerator(seed: 9))
        #expect(try JSONDecoder().decode(RandomGenerator.self, from: saved) == RandomGenerator(seed: 9))
    }

    /// Softmax over an empty axis is the empty tensor; logSumExp of nothing is −∞ (both trapped).
    @Test func emptyAxes() {
        #expect(Tensor.zeros([3, 0]).softmax().shape == [3, 0])
        #expect(Tensor.zeros([3, 0]).logSoftmax().shape == [3, 0])
        #expect(Tensor.zeros([3, 0]).logSumExp(alongAxes: [1]).scalars == [-.infinity, -.infinity, -.infinity])
        #expect(Tensor.zeros([3, 0]).logSumExp(alongAxes: [1], keepingDimensions: true).shape == [3, 1])
    }
}
