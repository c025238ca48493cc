import Testing
import Tensor

/// The readable rendering: shape, values, tracking flag and elision of long axes.
@Suite struct DescriptionTests {
    @Test func smallTensors() {
        #expect(Tensor(2.5).description == "Tensor(scalar) 2.5")
        #expect(Tensor([1, 2, 3]).description == "Tensor(3) [1, 2, 3]")
        #expect(Tensor([[1, 2], [3, 0.125]]).description == "Tensor(2×2) [[1, 2],\n [3, 0.125]]")
        #expect(Tensor([1]).trackingGradients().description == "Tensor(1, tracked) [1]")
        #expect(Tensor([.nan, .infinity, -1e-7]).description == "Tensor(3) [nan, inf, -1e-07]")
        #expect(Tensor.zeros([2, 0]).description == "Tensor(2×0) [[],\n []]")
    }

    @Test func longAxesAreElided() {
        let text = Tensor.arange(0, 100).description
        #expect(text == "Tensor(100) [0, 1, 2, …, 97, 98, 99]")
        let matrix = Tensor.arange(0, 200).reshaped(to: [20, 10]).description
        #expect(matrix.hasPrefix("Tensor(20×10) [[0, 1, 2, …, 7, 8, 9],\n [10, 11, 12, …, 17, 18, 19],"))
        #expect(matrix.contains(" …,\n [170, 171"))
        #expect(matrix.hasSuffix("[190, 191, 192, …, 197, 198, 199]]"))
        // Short axes of a big tensor are shown whole.
        #expect(Tensor.zeros([2, 40]).description.contains("…"))
        #expect(!Tensor.zeros([8, 8]).description.contains("…"))
    }
}
