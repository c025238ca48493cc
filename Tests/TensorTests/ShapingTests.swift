import Testing
import Tensor

/// Views and copies that change shape: values and gradients.
@Suite struct ShapingTests {
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

    @Test func reshapeSharesStorage() {
        let y = x.reshaped(to: [6, -1])
        #expect(y.shape == [6, 4])
        #expect(y.storage === x.storage)
        #expect(x.flattened().shape == [2, 12])
        #expect(x.flattened(from: 0).shape == [24])
        #expect(x.flattened(from: 0, to: 1).shape == [6, 4])
        #expect(x.unsqueezed(axis: 1).shape == [2, 1, 3, 4])
        #expect(x.unsqueezed(axis: -1).shape == [2, 3, 4, 1])
        #expect(Tensor.zeros([1, 3, 1]).squeezed().shape == [3])
        #expect(Tensor.zeros([1, 3, 1]).squeezed(axis: -1).shape == [1, 3])
        expectGradients([random([2, 6], seed: 51)]) { $0[0].reshaped(to: [3, 4]) * Tensor.arange(0, 12).reshaped(to: [3, 4]) }
        expectGradients([random([2, 1, 3], seed: 52)]) { $0[0].squeezed().unsqueezed(axis: 0).flattened(from: 0) }
    }

    @Test(arguments: [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]]) func permute(_ order: [Int]) {
        let y = x.permuted(order)
        #expect(y.shape == order.map { x.shape[$0] })
        for index in allIndices(y.shape) {
            var source = [0, 0, 0]
            for (i, axis) in order.enumerated() { source[axis] = index[i] }
            #expect(y[index[0], index[1], index[2]] == x[source[0], source[1], source[2]])
        }
        expectGradients([random([2, 3, 4], seed: 53)]) { $0[0].permuted(order) }
    }

    @Test func transpose() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(m.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.transposed(0, 2).shape == [4, 3, 2])
        expectGradients([random([3, 2], seed: 54)]) { $0[0].transposed() }
    }

    @Test(arguments: [0, 1, 2]) func narrowAndSlice(_ axis: Int) {
        let length = x.shape[axis] - 1
        let y = x.narrowed(axis: axis, start: 1, length: length)
        var expectedShape = x.shape
        expectedShape[axis] = length
        #expect(y.shape == expectedShape)
        for index in allIndices(y.shape) {
            var source = index
            source[axis] += 1
            #expect(y[index[0], index[1], index[2]] == x[source[0], source[1], source[2]])
        }
        #expect(x.sliced(axis: axis, 1..<(1 + length)).scalars == y.scalars)
        expectGradients([random([2, 3, 4], seed: 55)]) { $0[0].narrowed(axis: axis, start: 1, length: length) }
    }

    @Test(arguments: [0, 1, -1]) func concatenateAndStack(_ axis: Int) {
        let a = random([2, 3], seed: 56), b = random([2, 3], seed: 57)
        let joined = Tensor.concatenate([a, b], axis: axis)
        let a2 = axis == 0 ? 0 : 1
        #expect(joined.shape == (a2 == 0 ? [4, 3] : [2, 6]))
        #expect(joined.sliced(axis: a2, 0..<a.shape[a2]).scalars == a.scalars)
        #expect(joined.sliced(axis: a2, a.shape[a2]..<joined.shape[a2]).scalars == b.scalars)
        expectGradients([a, b]) { Tensor.concatenate([$0[0], $0[1]], axis: axis) }
        let stacked = Tensor.stack([a, b], axis: axis)
        #expect(stacked.shape == (axis == 0 ? [2, 2, 3] : axis == 1 ? [2, 2, 3] : [2, 3, 2]))
        expectGradients([a, b]) { Tensor.stack([$0[0], $0[1]], axis: axis) }
        // Unequal sizes along the joined axis.
        let c = random([2, 1], seed: 58)
        expectGradients([a, c]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
    }

    @Test(arguments: [([3], [2, 3]), ([2, 1], [2, 4]), ([1, 3, 1], [2, 3, 2]), ([], [2, 2])])
    func broadcastAndItsAdjoint(_ from: [Int], _ to: [Int]) {
        let a = random(from, seed: 59)
        let b = a.broadcast(to: to)
        #expect(b.shape == to)
        let sa = Shape.broadcastedIndexReference(from: from, to: to)
        for (i, index) in allIndices(to).enumerated() { #expect(b.scalars[i] == element(a.scalars, shape: from, sa(index))) }
        expectGradients([a]) { $0[0].broadcast(to: to) }
        expectGradients([random(to, seed: 60)]) { $0[0].sum(toShape: from) }
        expectClose(b.sum(toShape: from), a * Float(Shape.count(to) / max(Shape.count(from), 1)))
    }

    @Test(arguments: [Tensor.PaddingMode.zero, .replicate]) func pad(_ mode: Tensor.PaddingMode) {
        let v = Tensor([1, 2, 3])
        let p = v.padded(axis: 0, before: 2, after: 1, mode: mode)
        #expect(p.scalars == (mode == .zero ? [0, 0, 1, 2, 3, 0] : [1, 1, 1, 2, 3, 3]))
        expectGradients([random([2, 3, 2], seed: 61)]) { $0[0].padded(axis: 1, before: 2, after: 1, mode: mode) }
        let image = random([1, 2, 2, 3], seed: 62)
        let q = image.padded2D(top: 1, bottom: 0, left: 2, right: 1, mode: mode)
        #expect(q.shape == [1, 2, 3, 6])
        #expect(q.narrowed(axis: 2, start: 1, length: 2).narrowed(axis: 3, start: 2, length: 3).scalars == image.scalars)
        expectGradients([image]) { $0[0].padded2D(top: 1, bottom: 2, left: 0, right: 1, mode: mode) }
    }

    @Test func repeatedUseAccumulates() {
        // x appears in both halves of the concatenation and again in a product.
        expectGradients([random([2, 2], seed: 63)]) { t in
            Tensor.concatenate([t[0], t[0].transposed()], axis: 0) * Tensor.concatenate([t[0], t[0]], axis: 0)
        }
    }
}

extension Shape {
    /// Test reference: maps an index of the broadcast shape to the index of the source.
    static func broadcastedIndexReference(from: [Int], to: [Int]) -> ([Int]) -> [Int] {
        { index in
            let offset = to.count - from.count
            return from.indices.map { from[$0] == 1 ? 0 : index[$0 + offset] }
        }
    }
}
