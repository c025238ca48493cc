import Foundation
import Testing
import Tensor

/// Finite-difference checks of the broadcasting binary operations and the scalar forms.
@Suite struct ArithmeticGradientTests {
    /// Pairs of shapes that broadcast: equal, trailing vector, leading vector, both sides
    /// expanded, scalar, size-1, and the per-channel pattern.
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1, 3], [4, 1]),
        ([], [2, 3]), ([2, 3], [1]), ([2, 3, 2, 2], [1, 3, 1, 1]),
    ]

    @Test(arguments: shapePairs) func add(_ a: [Int], _ b: [Int]) {
        expectGradients([random(a, seed: 1), random(b, seed: 2)]) { $0[0] + $0[1] }
    }

    @Test(arguments: shapePairs) func subtract(_ a: [Int], _ b: [Int]) {
        expectGradients([random(a, seed: 3), random(b, seed: 4)]) { $0[0] - $0[1] }
    }

    @Test(arguments: shapePairs) func multiply(_ a: [Int], _ b: [Int]) {
        expectGradients([random(a, seed: 5), random(b, seed: 6)]) { $0[0] * $0[1] }
    }

    @Test(arguments: shapePairs) func divide(_ a: [Int], _ b: [Int]) {
        expectGradients([random(a, seed: 7), randomAwayFromZero(b, seed: 8, low: 0.5, high: 2)]) { $0[0] / $0[1] }
    }

    @Test(arguments: shapePairs) func pow(_ a: [Int], _ b: [Int]) {
        expectGradients([random(a, seed: 9, low: 0.5, high: 2), random(b, seed: 10, low: -1.5, high: 2)]) {
            Tensor.pow($0[0], $0[1])
        }
    }

    @Test(arguments: shapePairs) func maximumAndMinimum(_ a: [Int], _ b: [Int]) {
        // Different seeds keep the two operands apart (no ties, where the derivative jumps).
        expectGradients([random(a, seed: 11), random(b, seed: 12)]) { Tensor.maximum($0[0], $0[1]) }
        expectGradients([random(a, seed: 13), random(b, seed: 14)]) { Tensor.minimum($0[0], $0[1]) }
    }

    @Test func negate() {
        expectGradients([random([2, 3], seed: 15)]) { -$0[0] }
    }

    @Test func scalarForms() {
        let x = [random([2, 3], seed: 16)]
        expectGradients(x) { $0[0] + 2.5 }
        expectGradients(x) { 2.5 + $0[0] }
        expectGradients(x) { $0[0] - 1.5 }
        expectGradients(x) { 1.5 - $0[0] }
        expectGradients(x) { $0[0] * -3 }
        expectGradients(x) { -3 * $0[0] }
        expectGradients(x) { $0[0] / 4 }
        expectGradients([randomAwayFromZero([2, 3], seed: 17, low: 0.5, high: 2)]) { 2 / $0[0] }
    }

    @Test(arguments: [Float(2), 3, 0.5, -1.5]) func powScalar(_ p: Float) {
        expectGradients([random([2, 3], seed: 18, low: 0.5, high: 2)]) { $0[0].pow(p) }
    }

    @Test func select() {
        let mask = Tensor([[1, 0, 1], [0, 0, 1]])
        expectGradients([random([2, 3], seed: 19), random([3], seed: 20)]) { Tensor.select(mask, $0[0], $0[1]) }
        // The side not chosen does not leak: the masked log of a zero is 0, with a 0 gradient there.
        let x = Tensor([0, 2, 0.5]).trackingGradients()
        let safe = Tensor.select(x.greaterMask(Tensor([0.6])), x.log(), Tensor.zeros([3]))
        #expect(safe.scalars == [0, Foundation.log(Float(2)), 0])
        // (At the zero itself log's backward divides a zero gradient by 0, as in PyTorch.)
        #expect(safe.sum().backward()[x]?.scalars[1...] == [0.5, 0])
    }

    @Test func repeatedUseWithBroadcasting() {
        // x enters directly and through a broadcast of its own mean; a column and a row vector
        // are each used three times: every path's gradient must be summed back to its shape.
        expectGradients([random([3, 4], seed: 21)]) { t in (t[0] - t[0].mean(alongAxes: [0], keepingDimensions: true)) * t[0] }
        expectGradients([random([3, 1], seed: 22), random([4], seed: 23)]) { t in
            t[0] * t[1] + t[1] / (t[0].square() + 1) + t[0]
        }
    }

    @Test func scalarValues() {
        let x = Tensor([1, -2, 4])
        expectClose(x + 1, shape: [3], [2, -1, 5])
        expectClose(1 - x, shape: [3], [0, 3, -3])
        expectClose(x * 2, shape: [3], [2, -4, 8])
        expectClose(x / 2, shape: [3], [0.5, -1, 2])
        expectClose(8 / x, shape: [3], [8, -4, 2])
        expectClose(x.pow(2), shape: [3], [1, 4, 16])
        expectClose(Tensor.pow(Tensor([2, 3]), Tensor([3, 2])), shape: [2], [8, 9])
        expectClose(Tensor.maximum(x, Tensor(0)), shape: [3], [1, 0, 4])
        expectClose(Tensor.minimum(x, Tensor(0)), shape: [3], [0, -2, 0])
    }
}
