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
///
/// Parameters the function reads (a layer's weights) are checked too when listed in
/// `parameters:`; the `Layers` module's `run(_:module:)` lists every trainable one of a module.
public enum GradientCheck {
    /// The outcome of a check.
    public struct Report: CustomStringConvertible, Sendable {
        /// Whether every element of every input and parameter passed.
        public let passed: Bool
        /// Largest `|analytic − numeric|` over all checked elements.
        public let maxAbsoluteError: Double
        /// Index of the tensor (the inputs, then the parameters), element index, analytic and
        /// numeric values of the worst element.
        public let worst: (input: Int, element: Int, analytic: Double, numeric: Double)?
        /// The tensor holding the worst element: `input 1`, or `parameter` and its name
        /// (`parameter conv.weight`).
        public let worstTensor: String?
        /// Number of elements compared.
        public let checkedElements: Int

        public var description: String {
            guard let worst, let worstTensor else { return "GradientCheck: no elements checked" }
            return "GradientCheck \(passed ? "passed" : "FAILED"): \(checkedElements) elements, max |error| \(maxAbsoluteError) "
                + "(\(worstTensor), element \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric))"
        }
    }

    /// Checks the gradient of `function` with respect to every input and every listed parameter.
    ///
    /// Parameters are read by `function` itself (`layer.weight.value`), not passed in: their
    /// analytic gradients come from their current values, which are tape leaves; for the numeric
    /// ones each checked element is perturbed by assigning a perturbed copy to
    /// ``Parameter/value``, and the very tensor it held (the same leaf, bit for bit) is put back
    /// after every evaluation. A frozen parameter has no gradient to check: listing one stops
    /// with a message, as does listing one twice.
    ///
    /// - Parameters:
    ///   - inputs: the point to check at (their tape state is ignored).
    ///   - parameters: parameters `function` reads, with the names the report gives them
    ///     (`[("weight", w)]`, or a module's `namedParameters()`).
    ///   - epsilon: finite-difference step.
    ///   - relativeTolerance, absoluteTolerance: pass criterion per element (see above).
    ///   - maxElementsPerInput: check at most this many elements of each input and parameter:
    ///     one in each of that many consecutive runs of elements, at a random place in its run
    ///     (evenly spaced ones would all fall on one pixel or kernel column when a run is a whole
    ///     plane or kernel).
    ///   - seed: seed of the random cotangent and of the places checked.
    public static func run(_ inputs: [Tensor], parameters: [(name: String, parameter: Parameter)] = [],
                           epsilon: Float = 1e-3, relativeTolerance: Double = 2e-2, absoluteTolerance: Double = 2e-3,
                           maxElementsPerInput: Int = 64, seed: UInt64 = 0x5EED,
                           _ function: ([Tensor]) -> Tensor) -> Report {
        for (index, (name, parameter)) in parameters.enumerated() {
            precondition(parameter.isTrainable,
                         "GradientCheck: parameter \(name) of shape \(parameter.shape) is frozen (isTrainable false) "
                            + "and has no gradient to check; unfreeze it or leave it out")
            precondition(!parameters[..<index].contains { $0.parameter === parameter },
                         "GradientCheck: parameter \(name) of shape \(parameter.shape) is listed twice")
        }
        let leaves = inputs.map { $0.detached().trackingGradients() }
        let output = function(leaves)
        var rng = RandomGenerator(seed: seed)
        let cotangent = Tensor.randomUniform(output.shape, low: -1, high: 1, using: &rng)
        let gradients = output.backward(gradient: cotangent, retaining: .leaves)
        let w = cotangent.scalars

        let constants = inputs.map { $0.detached() }
        func objective(_ point: [Tensor]) -> Double {
            let y = withoutGradients { function(point) }
            precondition(y.shape == output.shape, "GradientCheck: output shape changed from \(output.shape) to \(y.shape)")
            return zip(y.scalars, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }

        let checked = inputs.indices.map { CheckedTensor(name: "input \($0)", value: inputs[$0], gradient: gradients[leaves[$0]]) }
            + parameters.map { CheckedTensor(name: "parameter \($0.name)", value: $0.parameter.value, gradient: gradients[$0.parameter]) }
        return compare(checked, epsilon: epsilon, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
                       maxElementsPerTensor: maxElementsPerInput, seed: seed) { index, perturbed in
            guard index >= inputs.count else {
                var point = constants
                point[index] = perturbed
                return objective(point)
            }
            return parameters[index - inputs.count].parameter.withTemporaryValue(perturbed) { objective(constants) }
        }
    }

    /// An input or parameter under check: its name in the report, its value at the point
    /// checked and its analytic gradient (`nil`: zero, it took no part).
    private struct CheckedTensor {
        let name: String
        let value: Tensor
        let gradient: Tensor?
    }

    /// Compares each tensor's analytic gradient with central differences of `objective`, which
    /// evaluates `L` with the tensor at the given index replaced by a perturbed value.
    private static func compare(_ tensors: [CheckedTensor], epsilon: Float, relativeTolerance: Double, absoluteTolerance: Double,
                                maxElementsPerTensor: Int, seed: UInt64, objective: (_ index: Int, _ perturbed: Tensor) -> Double) -> Report {
        var passed = true, maxError = 0.0, checked = 0
        var worst: (input: Int, element: Int, analytic: Double, numeric: Double)? = nil
        var worstScore = -Double.infinity
        for (index, tensor) in tensors.enumerated() {
            let base = tensor.value.scalars
            let analytic = tensor.gradient?.scalars ?? [Float](repeating: 0, count: base.count)
            let stride = max(1, (base.count + maxElementsPerTensor - 1) / maxElementsPerTensor)
            for (run, start) in Swift.stride(from: 0, to: base.count, by: stride).enumerated() {
                var place = RandomGenerator(seed: seed, stream: UInt64(index), UInt64(run))
                let element = start + Int(place.next() % UInt64(min(stride, base.count - start)))
                var plus = base, minus = base
                plus[element] += epsilon
                minus[element] -= epsilon
                let fPlus = objective(index, Tensor(shape: tensor.value.shape, scalars: plus))
                let fMinus = objective(index, Tensor(shape: tensor.value.shape, scalars: minus))
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
        return Report(passed: passed, maxAbsoluteError: maxError, worst: worst,
                      worstTensor: worst.map { tensors[$0.input].name }, checkedElements: checked)
    }
}
