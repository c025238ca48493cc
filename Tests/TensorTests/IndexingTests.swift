import Testing
import Tensor

/// Index selection, scatter-add, row gathering and one-hot encoding.
@Suite struct IndexingTests {
    @Test(arguments: [0, 1, 2]) func indexSelect(_ axis: Int) {
        let x = random([3, 4, 2], seed: 71)
        let indices = [2, 0, 2]  // a repeated index: its gradient must accumulate
        let y = x.indexSelect(axis: axis, indices.map { min($0, x.shape[axis] - 1) })
        var expectedShape = x.shape
        expectedShape[axis] = 3
        #expect(y.shape == expectedShape)
        let chosen = indices.map { min($0, x.shape[axis] - 1) }
        for index in allIndices(y.shape) {
            var source = index
            source[axis] = chosen[index[axis]]
            #expect(y[index[0], index[1], index[2]] == x[source[0], source[1], source[2]])
        }
        expectGradients([x]) { $0[0].indexSelect(axis: axis, chosen) }
    }

    @Test func scatterAdd() {
        let x = Tensor([[1, 2], [3, 4], [5, 6]])
        let y = x.scatterAdd(axis: 0, [2, 0, 2], size: 4)
        #expect(y.scalars == [3, 4, 0, 0, 6, 8, 0, 0])
        expectGradients([random([3, 2], seed: 72)]) { $0[0].scatterAdd(axis: 0, [2, 0, 2], size: 4) }
        expectGradients([random([2, 3], seed: 73)]) { $0[0].scatterAdd(axis: 1, [1, 1, 0], size: 2) }
    }

    @Test func gatherRows() {
        let logits = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(logits.gatherRows([2, 0]).scalars == [3, 4])
        expectGradients([random([3, 4], seed: 74)]) { $0[0].gatherRows([1, 3, 1]) }
    }

    @Test func oneHot() {
        let h = Tensor.oneHot([2, 0, 1], classes: 3)
        #expect(h.shape == [3, 3])
        #expect(h.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        #expect(Tensor.oneHot([], classes: 4).shape == [0, 4])
    }
}
