import Testing
import Tensor

/// Reductions over any set of axes, with and without `keepingDimensions`, against a
/// brute-force reference, plus their gradients.
@Suite struct ReductionTests {
    static let shape = [2, 3, 4]
    /// Single, adjacent, non-adjacent, negative and all axes.
    static let axisSets: [[Int]] = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [-1], [-3, -1], [0, 1, 2]]

    /// Reduces `values` of `shape` over `axes` with `combine`, the reduced axes kept as 1.
    static func reference(_ x: Tensor, axes: [Int], _ combine: ([Float]) -> Float) -> Tensor {
        let axes = Set(axes.map { $0 < 0 ? $0 + x.rank : $0 })
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let values = x.scalars
        let result = allIndices(kept).map { outIndex in
            combine(allIndices(x.shape).filter { index in
                index.indices.allSatisfy { axes.contains($0) || index[$0] == outIndex[$0] }
            }.map { element(values, shape: x.shape, $0) })
        }
        return Tensor(shape: kept, scalars: result)
    }

    @Test(arguments: axisSets) func sumMeanMaxMin(_ axes: [Int]) {
        let x = random(Self.shape, seed: 31)
        let normalized = axes.map { $0 < 0 ? $0 + 3 : $0 }
        let dropped = Self.shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        let cases: [(String, (Tensor, Bool) -> Tensor, ([Float]) -> Float)] = [
            ("sum", { $0.sum(alongAxes: axes, keepingDimensions: $1) }, { $0.reduce(0, +) }),
            ("mean", { $0.mean(alongAxes: axes, keepingDimensions: $1) }, { $0.reduce(0, +) / Float($0.count) }),
            ("max", { $0.max(alongAxes: axes, keepingDimensions: $1) }, { $0.max()! }),
            ("min", { $0.min(alongAxes: axes, keepingDimensions: $1) }, { $0.min()! }),
            ("variance", { $0.variance(alongAxes: axes, keepingDimensions: $1) }, { v in
                let m = v.reduce(0, +) / Float(v.count)
                return v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)
            }),
            ("logSumExp", { $0.logSumExp(alongAxes: axes, keepingDimensions: $1) }, { v in
                Foundation.log(v.map { Foundation.exp($0) }.reduce(0, +))
            }),
        ]
        for (name, op, combine) in cases {
            let expected = Self.reference(x, axes: axes, combine)
            expectClose(op(x, true), expected, "\(name) keep")
            expectClose(op(x, false), expected.reshaped(to: dropped), "\(name) drop")
        }
    }

    @Test(arguments: axisSets) func gradients(_ axes: [Int]) {
        let x = [random(Self.shape, seed: 32)]
        expectGradients(x) { $0[0].sum(alongAxes: axes) }
        expectGradients(x) { $0[0].mean(alongAxes: axes, keepingDimensions: true) }
        expectGradients(x) { $0[0].variance(alongAxes: axes) }
        expectGradients(x) { $0[0].logSumExp(alongAxes: axes, keepingDimensions: true) }
        // Random values have no ties, so the max/min are differentiable.
        expectGradients(x) { $0[0].max(alongAxes: axes) }
        expectGradients(x) { $0[0].min(alongAxes: axes, keepingDimensions: true) }
    }

    @Test func unbiasedVariance() {
        let x = Tensor([[1, 2, 3, 4], [2, 2, 2, 2]])
        expectClose(x.variance(alongAxes: [1], unbiased: true), shape: [2], [5.0 / 3, 0])
        expectClose(x.variance(alongAxes: [1]), shape: [2], [1.25, 0])
        expectGradients([random([3, 4], seed: 33)]) { $0[0].variance(alongAxes: [0], unbiased: true) }
    }

    @Test func defaultsReduceEverything() {
        let x = Tensor([[1, 2], [3, 4]])
        #expect(x.sum().shape == [])
        #expect(x.sum().item == 10)
        #expect(x.mean().item == 2.5)
        #expect(x.max().item == 4)
        #expect(x.min().item == 1)
        #expect(x.sum(keepingDimensions: true).shape == [1, 1])
        #expect(x.sum(alongAxis: 1).scalars == [3, 7])
        #expect(x.max(alongAxis: 0, keepingDimensions: true).shape == [1, 2])
    }

    @Test func extremesRouteTheGradientToTheFirstTie() {
        let x = Tensor([[3, 1, 3], [2, 5, 5]]).trackingGradients()
        let grads = x.max(alongAxis: 1).sum().backward()
        #expect(grads[x]!.scalars == [1, 0, 0, 0, 1, 0])
        let low = Tensor([[1, 1, 2]]).trackingGradients()
        #expect(low.min().backward()[low]!.scalars == [1, 0, 0])
    }

    @Test func argmaxArgmin() {
        let x = Tensor([[1, 7, 7], [9, 0, -3]])
        #expect(x.argmax(alongAxis: 1) == [1, 0])
        #expect(x.argmin(alongAxis: 1) == [0, 2])
        #expect(x.argmax(alongAxis: 0) == [1, 0, 0])
        #expect(x.argmin(alongAxis: -2) == [0, 1, 1])
    }

    @Test func logSumExpIsStable() {
        let big = Tensor([1000, 1000])
        expectClose(big.logSumExp(), Tensor(1000 + Foundation.log(2)), tolerance: 1e-3)
        let withMinusInfinity = Tensor([[-Float.infinity, 0], [-Float.infinity, -Float.infinity]])
        let result = withMinusInfinity.logSumExp(alongAxes: [1])
        #expect(result.scalars[0] == 0)
        #expect(result.scalars[1] == -.infinity)
    }

    @Test func nanPropagatesThroughMaxAndMin() {
        let x = Tensor([1, .nan, 3])
        #expect(x.max().item.isNaN)
        #expect(x.min().item.isNaN)
        // The SIMD path (≥ 16 contiguous elements).
        var values = [Float](repeating: 1, count: 40)
        values[37] = .nan
        #expect(Tensor(values).max().item.isNaN)
    }

    @Test func longContiguousReductions() {
        // Long enough for the SIMD and multi-threaded paths; integers keep every sum exact.
        let n = 200_003
        let x = Tensor(shape: [n]) { out in for i in out.indices { out[i] = Float(i % 7) } }
        let expected = (0..<n).reduce(0) { $0 + $1 % 7 }
        #expect(x.sum().item == Float(expected))
        #expect(x.max().item == 6)
        #expect(x.min().item == 0)
        let rows = x.narrowed(axis: 0, start: 0, length: 200_000).reshaped(to: [4, 50_000])
        #expect(rows.sum(alongAxis: 1).scalars.reduce(0, +) == Float((0..<200_000).reduce(0) { $0 + $1 % 7 }))
    }

    @Test func emptySum() {
        #expect(Tensor.zeros([0]).sum().item == 0)
        #expect(Tensor.zeros([2, 0]).sum(alongAxis: 1).scalars == [0, 0])
    }
}

import Foundation
