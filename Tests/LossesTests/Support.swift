import Testing
import Tensor

/// `|a − b| ≤ atol + rtol·|b|` for every element, with a message naming the first mismatch.
func expectClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, atol: Float = 1e-5,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
        Issue.record("\(what): element \(i) is \(a), expected \(e) (all: \(actual))", sourceLocation: sourceLocation)
        return
    }
}

func expectClose(_ actual: Float, _ expected: Float, rtol: Float = 1e-4, atol: Float = 1e-5,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose([actual], [expected], rtol: rtol, atol: atol, what, sourceLocation: sourceLocation)
}

/// Runs the public gradient checker and fails with its report.
func expectGradientsMatch(_ inputs: [Tensor], epsilon: Float = 1e-3, relativeTolerance: Double = 2e-2,
                          absoluteTolerance: Double = 2e-3, sourceLocation: SourceLocation = #_sourceLocation,
                          _ function: ([Tensor]) -> Tensor) {
    let report = GradientCheck.run(inputs, epsilon: epsilon, relativeTolerance: relativeTolerance,
                                   absoluteTolerance: absoluteTolerance, function)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    #expect(report.checkedElements > 0, "no element was checked", sourceLocation: sourceLocation)
}

/// Random normal tensor from a seed.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, standardDeviation: scale, using: &g)
}
