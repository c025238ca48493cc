import Tensor

/// Scores between the rows of two embedding matrices, in double precision.
///
/// For unit-length embeddings `a`, `b` the two scores used by the face literature are tied by
/// `‖a − b‖² = 2 − 2·cos(a, b)`: the ROC is computed on the cosine similarity (higher = same
/// person), insightface's 10-fold accuracy on the squared Euclidean distance (lower = same).
public enum PairScores {
    /// `cos_i = ⟨a_i, b_i⟩ / (‖a_i‖·‖b_i‖)` for each row pair (0 when a row is zero).
    public static func cosineSimilarities(_ first: Tensor, _ second: Tensor) throws -> [Double] {
        try rowwise(first, second) { a, b, d in
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<d {
                let x = Double(a[j]), y = Double(b[j])
                dot += x * y; na += x * x; nb += y * y
            }
            let norm = (na * nb).squareRoot()
            return norm > 0 ? dot / norm : 0
        }
    }

    /// `d_i = Σ_j (a_ij − b_ij)²` for each row pair — insightface's `np.sum(np.square(e1 − e2), 1)`.
    public static func squaredDistances(_ first: Tensor, _ second: Tensor) throws -> [Double] {
        try rowwise(first, second) { a, b, d in
            var sum = 0.0
            for j in 0..<d {
                let diff = Double(a[j]) - Double(b[j])
                sum += diff * diff
            }
            return sum
        }
    }

    /// `d_i = ‖â_i − b̂_i‖²` with `x̂ = x / ‖x‖` (a zero row stays zero, as scikit-learn's
    /// `normalize`): insightface's distances after the L2 normalisation its `test()` applies.
    /// Equals ``squaredDistances(_:_:)`` up to rounding for unit-length rows; for others it keeps
    /// the distances on the `[0, 4]` scale of the k-fold threshold grid.
    public static func normalizedSquaredDistances(_ first: Tensor, _ second: Tensor) throws -> [Double] {
        try rowwise(first, second) { a, b, d in
            var na = 0.0, nb = 0.0
            for j in 0..<d {
                na += Double(a[j]) * Double(a[j]); nb += Double(b[j]) * Double(b[j])
            }
            let sa = na > 0 ? 1 / na.squareRoot() : 0, sb = nb > 0 ? 1 / nb.squareRoot() : 0
            var sum = 0.0
            for j in 0..<d {
                let diff = Double(a[j]) * sa - Double(b[j]) * sb
                sum += diff * diff
            }
            return sum
        }
    }

    private static func rowwise(_ first: Tensor, _ second: Tensor,
                                _ score: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Double) throws -> [Double] {
        guard first.rank == 2, second.rank == 2 else {
            throw EvaluationError(.mismatchedInput, "pair embeddings must be [N, D] matrices, got \(first.shape) and \(second.shape)")
        }
        guard first.shape == second.shape else {
            throw EvaluationError(.mismatchedInput,
                                  "pair embeddings differ in shape: first \(first.shape), second \(second.shape) (same pair count and dimension needed)")
        }
        let (n, d) = (first.shape[0], first.shape[1])
        let a = first.storage.base, b = second.storage.base
        let scores = (0..<n).map { score(a + $0 &* d, b + $0 &* d, d) }
        guard scores.allSatisfy(\.isFinite) else {
            throw EvaluationError(.nonFiniteValue, "an embedding contains NaN or infinity")
        }
        return scores
    }
}
