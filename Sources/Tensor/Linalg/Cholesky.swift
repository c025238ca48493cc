import CLAPACKE

extension Linalg {
    /// The Cholesky factor of a symmetric positive definite matrix: lower-triangular `L` with
    /// `A = L · Lᵀ` (LAPACK `spotrf`). Only the lower triangle of `a` is read.
    ///
    /// - Throws: ``LinalgError/notPositiveDefinite(order:)``, ``LinalgError/nonFiniteInput(operation:row:column:)``.
    public static func cholesky(_ a: Tensor) throws -> Tensor {
        precondition(a.rank == 2 && a.shape[0] == a.shape[1], "cholesky: needs a square matrix, got shape \(a.shape)")
        let work = try workingCopy(a, "cholesky")
        let n = a.shape[0]
        guard n > 0 else { return work }
        let info = Parallel.withBLAS { LAPACKE_spotrf(rowMajor, flag("L"), Int32(n), work.storage.base, Int32(n)) }
        try check(info, "spotrf") { .notPositiveDefinite(order: $0) }
        return triangle(of: work, rows: n, upper: false)
    }
}
