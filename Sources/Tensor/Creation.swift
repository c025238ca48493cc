/// Tensors filled with constants, ranges and random numbers.
extension Tensor {
    /// All elements equal to `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape) { $0.initialize(repeating: value) }
    }

    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// Zeros of the same shape.
    public func zerosLike() -> Tensor { .zeros(shape) }

    /// `start, start + step, …` below `end` (a vector).
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0 && step.isFinite, "arange: step must be finite and non-zero, got \(step)")
        precondition(start.isFinite && end.isFinite, "arange: bounds must be finite, got \(start) to \(end)")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [n]) { out in for i in 0..<n { out[i] = start + Float(i) * step } }
    }

    /// Uniform samples in `[low, high)`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        precondition(low <= high, "randomUniform: low \(low) is above high \(high)")
        return Tensor(shape: shape) { out in for i in out.indices { out[i] = uniform(generator.nextUniform(), low: low, high: high) } }
    }

    /// `low + (high − low)·u` for `u` in `[0, 1)`, kept below `high` (for `u` just below 1 the
    /// product rounds up to `high` in float arithmetic, e.g. in `[1, 2)`).
    static func uniform(_ u: Float, low: Float, high: Float) -> Float {
        let value = low + (high - low) * u
        return value < high || low == high ? value : high.nextDown
    }

    /// Normal samples with the given mean and standard deviation.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using generator: inout RandomGenerator) -> Tensor {
        precondition(standardDeviation >= 0, "randomNormal: negative standard deviation \(standardDeviation)")
        return Tensor(shape: shape) { out in for i in out.indices { out[i] = mean + standardDeviation * generator.nextNormal() } }
    }
}
