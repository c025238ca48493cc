import Testing
import Tensor

/// Forward values and finite-difference checks of the unary functions.
@Suite struct UnaryGradientTests {
    static let shapes: [[Int]] = [[5], [2, 3], [2, 3, 2]]

    @Test(arguments: shapes) func smoothFunctions(_ shape: [Int]) {
        let x = [random(shape, seed: 21, low: -2, high: 2)]
        expectGradients(x) { $0[0].exp() }
        expectGradients(x) { $0[0].square() }
        expectGradients(x) { $0[0].sigmoid() }
        expectGradients(x) { $0[0].tanh() }
        expectGradients(x) { $0[0].sin() }
        expectGradients(x) { $0[0].cos() }
    }

    @Test(arguments: shapes) func positiveDomain(_ shape: [Int]) {
        let x = [random(shape, seed: 22, low: 0.5, high: 3)]
        expectGradients(x) { $0[0].log() }
        expectGradients(x) { $0[0].sqrt() }
        expectGradients(x) { $0[0].rsqrt() }
    }

    @Test(arguments: shapes) func kinkedFunctions(_ shape: [Int]) {
        let x = [randomAwayFromZero(shape, seed: 23)]
        expectGradients(x) { $0[0].abs() }
        expectGradients(x) { $0[0].relu() }
        expectGradients(x) { $0[0].leakyRelu(slope: 0.1) }
    }

    @Test(arguments: shapes) func acosInsideTheDomain(_ shape: [Int]) {
        expectGradients([random(shape, seed: 24, low: -0.9, high: 0.9)]) { $0[0].acos() }
    }

    @Test func clamped() {
        // Values away from the bounds ±0.5, on both sides of them.
        let x = Tensor([-1.2, -0.7, -0.3, 0.1, 0.4, 0.8, 1.3])
        expectGradients([x]) { $0[0].clamped(min: -0.5, max: 0.5) }
        expectClose(x.clamped(min: -0.5, max: 0.5), shape: [7], [-0.5, -0.5, -0.3, 0.1, 0.4, 0.5, 0.5])
    }

    @Test(arguments: [[2, 3], [2, 3, 2, 2]]) func preluPerChannel(_ shape: [Int]) {
        expectGradients([randomAwayFromZero(shape, seed: 25), random([3], seed: 26, low: 0.05, high: 0.5)]) {
            $0[0].prelu(slope: $0[1])
        }
    }

    @Test func preluSharedSlope() {
        expectGradients([randomAwayFromZero([2, 3, 2], seed: 27), Tensor([0.25])]) { $0[0].prelu(slope: $0[1]) }
        let y = Tensor([[-2, 3], [4, -8]]).prelu(slope: Tensor([0.5, 0.25]))
        expectClose(y, shape: [2, 2], [-1, 3, 4, -2])
    }

    @Test func values() {
        let x = Tensor([-2, -0.5, 0, 1.5])
        expectClose(x.abs(), shape: [4], [2, 0.5, 0, 1.5])
        expectClose(x.relu(), shape: [4], [0, 0, 0, 1.5])
        expectClose(x.leakyRelu(slope: 0.1), shape: [4], [-0.2, -0.05, 0, 1.5])
        expectClose(x.sign(), shape: [4], [-1, -1, 0, 1])
        expectClose(x.square(), shape: [4], [4, 0.25, 0, 2.25])
        expectClose(x.sigmoid(), shape: [4], [0.11920292, 0.37754067, 0.5, 0.81757448])
        expectClose(x.tanh(), shape: [4], [-0.96402758, -0.46211716, 0, 0.90514825])
        expectClose(Tensor([1, 4, 9]).sqrt(), shape: [3], [1, 2, 3])
        expectClose(Tensor([1, 4, 16]).rsqrt(), shape: [3], [1, 0.5, 0.25])
        expectClose(Tensor([0, 1]).exp().log(), shape: [2], [0, 1])
        // acos is clamped: finite at and beyond ±1.
        let a = Tensor([-2, -1, 0, 1, 2]).acos()
        #expect(a.scalars.allSatisfy { $0.isFinite })
        expectClose(a, shape: [5], [Float.pi, Float.pi, Float.pi / 2, 0, 0], tolerance: 1e-3)
        // The sigmoid is stable for large |x|.
        expectClose(Tensor([-100, 100]).sigmoid(), shape: [2], [0, 1])
    }
}
