import Testing
import Tensor

/// The checker itself: parameter gradients, the report's naming, and that a parameter is left
/// holding its very tensor.
@Suite struct GradientCheckTests {
    /// `x ⊙ scale` (scale broadcast over rows) whose backward doubles the scale's gradient.
    static func scaledWithWrongScaleGradient(_ x: Tensor, _ scale: Tensor) -> Tensor {
        let value = withoutGradients { x * scale }
        let xs = x.detached(), ss = scale.detached()
        return Tensor.recordOperation("wrongScale", value: value, inputs: [x, scale]) { g in
            [g * ss, (g * xs).sum(alongAxes: [0]) * 2]
        }
    }

    @Test func checksParametersAndPutsBackTheirLeaves() {
        let weight = Parameter(random([3, 2], seed: 1)), bias = Parameter(random([2], seed: 2))
        let x = random([4, 3], seed: 3)
        let before = (weight.value, bias.value)
        let earlier = x.matmul(weight.value).sum().backward()
        let report = GradientCheck.run([x], parameters: [("weight", weight), ("bias", bias)]) { t in
            (t[0].matmul(weight.value) + bias.value).tanh()
        }
        #expect(report.passed, "\(report)")
        #expect(report.checkedElements == 12 + 6 + 2)
        // The same tensors, leaves included: a gradient store from before still reads them.
        #expect(weight.value.storage === before.0.storage && weight.value.node === before.0.node)
        #expect(bias.value.storage === before.1.storage && bias.value.node === before.1.node)
        #expect(earlier[weight] != nil)
    }

    /// A gradient wrong only in the last column of 3×3 kernels is caught at every sample limit
    /// (evenly spaced samples fell on column 0 of every kernel), and no more elements than the
    /// limit are checked.
    @Test(arguments: [16, 24, 64]) func samplesReachEveryKernelColumn(limit: Int) {
        let w = random([8, 8, 3, 3], seed: 6)
        let report = GradientCheck.run([w], maxElementsPerInput: limit) { t in
            let value = withoutGradients { t[0] * 1.5 }
            let wrong = Tensor(shape: [8, 8, 3, 3], scalars: (0..<576).map { $0 % 3 == 2 ? 3 : 1.5 })
            return Tensor.recordOperation("wrongLastColumn", value: value, inputs: [t[0]]) { g in [g * wrong] }
        }
        #expect(!report.passed && report.worst.map { $0.element % 3 == 2 } == true, "\(report)")
        #expect(report.checkedElements <= limit && report.checkedElements >= limit * 3 / 4, "\(report.checkedElements)")
    }

    @Test func wrongParameterGradientIsCaughtAndNamed() {
        let scale = Parameter(Tensor([0.5, -1.5, 2]))
        let original = scale.value.scalars
        let report = GradientCheck.run([random([2, 3], seed: 4)], parameters: [("scale", scale)]) { t in
            Self.scaledWithWrongScaleGradient(t[0], scale.value)
        }
        #expect(!report.passed)
        #expect(report.worstTensor == "parameter scale" && report.worst?.input == 1, "\(report)")
        #expect(report.description.contains("(parameter scale, element "), "\(report)")
        #expect(scale.value.scalars.map(\.bitPattern) == original.map(\.bitPattern))
    }

    @Test func inputReportKeepsItsFormat() {
        let report = GradientCheck.run([random([3], seed: 5), random([3], seed: 6)]) { t in
            Self.scaledWithWrongScaleGradient(t[0].reshaped(to: [1, 3]), t[1])
        }
        #expect(!report.passed)
        #expect(report.worstTensor == "input 1" && report.worst?.input == 1)
        #expect(report.description.hasPrefix("GradientCheck FAILED: 6 elements, max |error| "), "\(report)")
        #expect(report.description.contains("(input 1, element "), "\(report)")
    }
}
