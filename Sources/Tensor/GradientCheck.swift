/// A numerical gradient checker for operations, layers and losses — yours and ours.
///
/// For a function `f` of tensors, it compares the tape's vector–Jacobian product with a
/// central finite difference of the scalar `L(x) = Σ f(x) ⊙ w`, where `w` is a fixed random
/// cotangent (so non-scalar outputs are checked in every direction at once):
///
///     ∂L/∂xᵢ ≈ (L(x + εeᵢ) − L(x − εeᵢ)) / 2ε        (L accumulated in Double)
///
/// An element passes when `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance·|numeric|`.
/// Defaults suit float32 with ε = 1e-3 on inputs of order 1: central differences have
/// O(ε²) truncation error and O(u/ε) rounding error (u ≈ 6e-8), i.e. a few 1e-4 absolute.
/// Non-smooth points (ReLU at 0, max ties) must be avoided by the caller's inputs.
///
/// ```swift
/// let report = GradientCheck.run([x, w]) { t in (t[0].matmul(t[1])).tanh() }
/// assert(report.passed, report.description)
/// ```
public enum GradientCheck {
    /// The outcome of a check.
    public struct Report: CustomStringConvertible, Sendable {
        /// Whether every element of every input passed.
        public let passed: Bool
        /// Largest `|analytic − numeric|` over all checked elements.
        public let maxAbsoluteError: Double
        /// Input index, element index, analytic and numeric values of the worst element.
        public let worst: (input: Int, element: Int, analytic: Double, numeric: Double)?
        /// Number of elements compared.
        public let checkedElements: Int

        public var description: String {
            guard let worst else { return "GradientCheck: no elements checked" }
            return "GradientCheck \(passed ? "passed" : "FAILED"): \(checkedElements) elements, max |error| \(maxAbsoluteError) "
                + "(input \(worst.input), element \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric))"
        }
    }

    /// Checks the gradient of `function` with respect to every input.
    ///
    /// - Parameters:
    ///   - inputs: the point to check at (their tape state is ignored).
    ///   - epsilon: finite-difference step.
    ///   - relativeTolerance, absoluteTolerance: pass criterion per element (see above).
    ///   - maxElementsPerInput: check at most this many elements of each input, spread evenly.
    ///   - seed: seed of the random cotangent.
    public static func run(_ inputs: [Tensor], epsilon: Float = 1e-3, relativeTolerance: Double = 2e-2,
                           absoluteTolerance: Double = 2e-3, maxElementsPerInput: Int = 64, seed: UInt64 = 0x5EED,
                           _ function: ([Tensor]) -> Tensor) -> Report {
        let leaves = inputs.map { $0.detached().trackingGradients() }
        let output = function(leaves)
        var rng = RandomGenerator(seed: seed)
        let cotangent = Tensor.randomUniform(output.shape, low: -1, high: 1, using: &rng)
        let gradients = output.backward(gradient: cotangent, retaining: .leaves)
        let w = cotangent.scalars

        func objective(_ point: [Tensor]) -> Double {
            let y = withoutGradients { function(point) }
            precondition(y.shape == output.shape, "GradientCheck: output shape changed from \(output.shape) to \(y.shape)")
            return zip(y.scalars, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }

        var passed = true, maxError = 0.0, checked = 0
        var worst: (input: Int, element: Int, analytic: Double, numeric: Double)? = nil
        var worstScore = -Double.infinity
        for (index, input) in inputs.enumerated() {
            let analytic = gradients[leaves[index]]?.scalars ?? [Float](repeating: 0, count: input.count)
            let base = input.scalars
            let stride = max(1, base.count / maxElementsPerInput)
            for element in Swift.stride(from: 0, to: base.count, by: stride) {
                var plus = base, minus = base
                plus[element] += epsilon
                minus[element] -= epsilon
                var point = inputs.map { $0.detached() }
                point[index] = Tensor(shape: input.shape, scalars: plus)
                let fPlus = objective(point)
                point[index] = Tensor(shape: input.shape, scalars: minus)
                let fMinus = objective(point)
                let numeric = (fPlus - fMinus) / (2 * Double(epsilon))
                let a = Double(analytic[element])
                let error = abs(a - numeric)
                let allowed = absoluteTolerance + relativeTolerance * abs(numeric)
                if error > allowed { passed = false }
                maxError = max(maxError, error)
                if error - allowed > worstScore { worstScore = error - allowed; worst = (index, element, a, numeric) }
                checked += 1
            }
        }
        return Report(passed: passed, maxAbsoluteError: maxError, worst: worst, checkedElements: checked)
    }
}
