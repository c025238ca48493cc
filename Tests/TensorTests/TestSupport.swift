import Testing
import Tensor

/// Helpers shared by the Tensor tests.

/// A tensor of uniform values in `[low, high)` from a fixed seed.
func random(_ shape: [Int], seed: UInt64 = 1, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.randomUniform(shape, low: low, high: high, using: &rng)
}

/// A tensor of uniform values whose magnitudes lie in `[low, high)` with random signs: keeps
/// inputs away from kinks at zero (abs, relu) while covering both sides.
func randomAwayFromZero(_ shape: [Int], seed: UInt64 = 1, low: Float = 0.2, high: Float = 1.5) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: shape) { out in
        for i in out.indices {
            let magnitude = low + (high - low) * rng.nextUniform()
            out[i] = rng.nextUniform() < 0.5 ? -magnitude : magnitude
        }
    }
}

/// Expects every element of `actual` to be within `tolerance` of `expected` (and equal shapes).
func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5, _ comment: Comment? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, comment, sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
    #expect(worst <= tolerance, "max |difference| \(worst) > \(tolerance)\n\(actual)\nvs\n\(expected)", sourceLocation: sourceLocation)
}

/// Expects `actual` to hold `expected` (row-major) within `tolerance`, with the given shape.
func expectClose(_ actual: Tensor, shape: [Int], _ expected: [Float], tolerance: Float = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual, Tensor(shape: shape, scalars: expected), tolerance: tolerance, sourceLocation: sourceLocation)
}

/// Runs the public finite-difference checker and records a failure with its report.
func expectGradients(_ inputs: [Tensor], epsilon: Float = 1e-3, sourceLocation: SourceLocation = #_sourceLocation,
                     _ function: ([Tensor]) -> Tensor) {
    let report = GradientCheck.run(inputs, epsilon: epsilon, function)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    #expect(report.checkedElements > 0, "no element was checked", sourceLocation: sourceLocation)
}

/// Reference: the element of a row-major tensor of `shape` at `index`.
func element(_ values: [Float], shape: [Int], _ index: [Int]) -> Float {
    var offset = 0
    for (axis, i) in index.enumerated() { offset = offset * shape[axis] + i }
    return values[offset]
}

/// Every multi-index of `shape`, in row-major order.
func allIndices(_ shape: [Int]) -> [[Int]] {
    var result: [[Int]] = [[]]
    for size in shape { result = result.flatMap { prefix in (0..<size).map { prefix + [$0] } } }
    return result
}
