import Testing
import Tensor

/// NumPy broadcasting: the shape rule and every walking pattern of the elementwise kernel.
@Suite struct BroadcastingTests {
    @Test func shapeRule() {
        #expect(Shape.broadcast([2, 3], [3]) == [2, 3])
        #expect(Shape.broadcast([4, 1, 3], [2, 1]) == [4, 2, 3])
        #expect(Shape.broadcast([], [2]) == [2])
        #expect(Shape.broadcast([1], []) == [1])
        #expect(Shape.broadcast([0, 3], [1, 3]) == [0, 3])
        #expect(Shape.broadcast([5, 1, 1], [1, 4, 1]) == [5, 4, 1])
    }

    /// Pairs covering: equal shapes, a row vector, a column vector, a scalar, a per-channel
    /// `[1, C, 1, 1]`, both operands expanded, and size-1 axes on both sides.
    static let pairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([4, 3], [3]), ([4, 3], [4, 1]), ([4, 1], [4, 3]), ([2, 3], []),
        ([2, 3, 2, 2], [1, 3, 1, 1]), ([3, 1], [1, 4]), ([2, 1, 3], [1, 4, 1]), ([1, 1], [2, 2]), ([1, 2, 1, 3], [2, 1, 4, 1]),
    ]

    @Test(arguments: pairs) func valuesMatchTheIndexRule(_ a: [Int], _ b: [Int]) {
        let x = random(a, seed: 101), y = random(b, seed: 102)
        let shape = Shape.broadcast(a, b)
        let z = x * y + x
        #expect(z.shape == shape)
        let xs = x.scalars, ys = y.scalars
        for (i, index) in allIndices(shape).enumerated() {
            let ia = Array(index.suffix(a.count)).enumerated().map { a[$0.offset] == 1 ? 0 : $0.element }
            let ib = Array(index.suffix(b.count)).enumerated().map { b[$0.offset] == 1 ? 0 : $0.element }
            let u = element(xs, shape: a, ia), v = element(ys, shape: b, ib)
            #expect(z.scalars[i] == u * v + u)
        }
    }

    @Test func largeTensorsUseTheThreadedPath() {
        // Above the parallel grain: results must equal the element rule everywhere.
        let a = Tensor(shape: [300, 257]) { out in for i in out.indices { out[i] = Float(i % 13) } }
        let bias = Tensor(shape: [257]) { out in for i in out.indices { out[i] = Float(i % 5) } }
        let column = Tensor(shape: [300, 1]) { out in for i in out.indices { out[i] = Float(i % 3) } }
        let s = a + bias, t = a * column
        for (r, c) in [(0, 0), (299, 256), (150, 100), (17, 255)] {
            #expect(s[r, c] == Float((r * 257 + c) % 13 + c % 5))
            #expect(t[r, c] == Float((r * 257 + c) % 13 * (r % 3)))
        }
    }

    @Test func masksAndSelect() {
        let a = Tensor([[1, 2, 3], [4, 5, 6]]), b = Tensor([2, 2, 6])
        #expect(a.greaterMask(b).scalars == [0, 0, 0, 1, 1, 0])
        #expect(a.greaterEqualMask(b).scalars == [0, 1, 0, 1, 1, 1])
        #expect(a.lessMask(b).scalars == [1, 0, 1, 0, 0, 0])
        #expect(a.lessEqualMask(b).scalars == [1, 1, 1, 0, 0, 1])
        #expect(a.equalMask(b).scalars == [0, 1, 0, 0, 0, 1])
        #expect(Tensor.select(a.greaterMask(b), a, b).scalars == [2, 2, 6, 4, 5, 6])
    }
}
