import CLAPACKE

extension Linalg {
    /// The solution `x` of `A · x = b` for a square `A` (LU with partial pivoting, LAPACK
    /// `sgesv`). `b` is a vector `[n]` or a matrix `[n, k]` of right-hand sides; `x` has its shape.
    ///
    /// - Throws: ``LinalgError/singular(pivot:)``, ``LinalgError/nonFiniteInput(operation:row:column:)``.
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        precondition(a.rank == 2 && a.shape[0] == a.shape[1], "solve: needs a square matrix, got shape \(a.shape)")
        precondition((b.rank == 1 || b.rank == 2) && b.shape[0] == a.shape[0],
                     "solve: right-hand side of shape \(b.shape) does not match the matrix \(a.shape) (need [\(a.shape[0])] or [\(a.shape[0]), k])")
        let lu = try workingCopy(a, "solve")
        let x = try workingCopy(b.rank == 1 ? b.reshaped(to: [b.shape[0], 1]) : b, "solve (right-hand side)")
        let n = a.shape[0], k = x.shape[1]
        guard n > 0 && k > 0 else { return x.reshaped(to: b.shape) }
        var pivots = [Int32](repeating: 0, count: n)
        let info = Parallel.withBLAS { LAPACKE_sgesv(rowMajor, Int32(n), Int32(k), lu.storage.base, Int32(n), &pivots, x.storage.base, Int32(k)) }
        try check(info, "sgesv") { .singular(pivot: $0) }
        return x.reshaped(to: b.shape)
    }
}
