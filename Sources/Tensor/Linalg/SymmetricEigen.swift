import CLAPACKE

extension Linalg {
    /// Eigendecomposition of a real symmetric matrix: `A = V · diag(λ) · Vᵀ` with orthonormal
    /// eigenvectors in the *columns* of `vectors` and `values` ascending (LAPACK `ssyevd`,
    /// divide and conquer). Only the upper triangle of `a` is read.
    ///
    /// - Throws: ``LinalgError/noConvergence(routine:info:)``, ``LinalgError/nonFiniteInput(operation:row:column:)``.
    public static func symmetricEigen(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
        precondition(a.rank == 2 && a.shape[0] == a.shape[1], "symmetricEigen: needs a square matrix, got shape \(a.shape)")
        let vectors = try workingCopy(a, "symmetricEigen")
        let n = a.shape[0]
        let values = Tensor(shape: [n]) { _ in }
        guard n > 0 else { return (values, vectors) }
        let info = Parallel.withBLAS { LAPACKE_ssyevd(rowMajor, flag("V"), flag("U"), Int32(n), vectors.storage.base, Int32(n), values.storage.base) }
        try check(info, "ssyevd") { .noConvergence(routine: "ssyevd", info: $0) }
        return (values, vectors)
    }
}
