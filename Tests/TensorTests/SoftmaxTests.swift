import Testing
import Tensor

/// Softmax, log-softmax and L2 normalisation: values, stability and gradients.
@Suite struct SoftmaxTests {
    @Test(arguments: [0, 1, -1]) func gradients(_ axis: Int) {
        let x = [random([3, 4], seed: 41, low: -3, high: 3)]
        expectGradients(x) { $0[0].softmax(alongAxis: axis) }
        expectGradients(x) { $0[0].logSoftmax(alongAxis: axis) }
        expectGradients(x) { $0[0].l2Normalized(axis: axis) }
    }

    @Test func rank3Gradients() {
        let x = [random([2, 3, 2], seed: 42, low: -2, high: 2)]
        expectGradients(x) { $0[0].softmax(alongAxis: 1) }
        expectGradients(x) { $0[0].logSoftmax(alongAxis: 1) }
        expectGradients(x) { $0[0].l2Normalized(axis: 1) }
        // Norms below eps (x / eps, a linear map) on an inner axis.
        expectGradients([random([2, 3, 2], seed: 43, low: -0.1, high: 0.1)]) { $0[0].l2Normalized(axis: 1, eps: 0.5) }
        // …and on the last axis (its own loop), one row below eps and one above.
        let rows = Tensor(shape: [2, 3], scalars: random([2, 3], seed: 45, low: -0.1, high: 0.1).scalars.enumerated().map { $0 < 3 ? $1 : $1 * 20 })
        expectGradients([rows]) { $0[0].l2Normalized(axis: 1, eps: 0.5) }
    }

    @Test func values() {
        let x = Tensor([[1, 2, 3], [1000, 1000, 1000]])
        let e = [Foundation.exp(Float(-2)), Foundation.exp(Float(-1)), 1]
        let z = e.reduce(0, +)
        expectClose(x.softmax(), shape: [2, 3], e.map { $0 / z } + [1.0 / 3, 1.0 / 3, 1.0 / 3])
        // Logits of 1000, where float spacing is 6e-5: the result keeps the small values' accuracy.
        expectClose(x.logSoftmax(), shape: [2, 3], e.map { Foundation.log($0 / z) } + [Float](repeating: -Foundation.log(3), count: 3), tolerance: 1e-6)
        // Rows sum to one along the chosen axis.
        let columns = random([3, 4], seed: 43, low: -5, high: 5).softmax(alongAxis: 0)
        expectClose(columns.sum(alongAxis: 0), .ones([4]))
    }

    @Test func l2Normalized() {
        let x = Tensor([[3, 4], [0, 0]])
        // The zero row stays zero (the norm is clamped at eps), the other has unit length.
        expectClose(x.l2Normalized(), shape: [2, 2], [0.6, 0.8, 0, 0])
        let y = random([4, 5], seed: 44).l2Normalized(axis: 1)
        expectClose(y.square().sum(alongAxis: 1), .ones([4]))
    }

    /// The fused normalisation against its formula `x / max(‖x‖, eps)` along an inner axis, and
    /// its gradient on a zero vector: `g / eps` (PyTorch's `F.normalize`), not NaN.
    @Test func l2NormalizedFusedAgainstFormula() {
        let x = random([2, 3, 4], seed: 45)
        let norm = x.square().sum(alongAxis: 1, keepingDimensions: true).sqrt()
        expectClose(x.l2Normalized(axis: 1), shape: [2, 3, 4], (x / norm).scalars)
        expectGradients([random([3, 20], seed: 46)]) { $0[0].l2Normalized(axis: 1) }
        expectGradients([random([5, 2, 3], seed: 47)]) { $0[0].l2Normalized(axis: 0) }

        let zero = Tensor.zeros([2, 3]).trackingGradients()
        let g = Tensor([[1, -2, 3], [0.5, 0, -1]])
        let dx = zero.l2Normalized(axis: 1, eps: 0.5).backward(gradient: g)[zero]!
        expectClose(dx, shape: [2, 3], (g * 2).scalars)
    }
}

import Foundation
