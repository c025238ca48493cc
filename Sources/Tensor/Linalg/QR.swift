import CLAPACKE

extension Linalg {
    /// The reduced QR decomposition `A = Q · R` of an `m × n` matrix: `Q` is `m × k` with
    /// orthonormal columns and `R` is `k × n` upper triangular, `k = min(m, n)` (Householder
    /// reflections, LAPACK `sgeqrf` then `sorgqr`). For a square Gaussian matrix, `Q` is a
    /// random orthogonal matrix (orthogonal initialisation, Saxe et al. 2014) once the columns
    /// are multiplied by the signs of `diag(R)`.
    ///
    /// - Throws: ``LinalgError/nonFiniteInput(operation:row:column:)``, ``LinalgError/lapack(routine:info:)``.
    public static func qr(_ a: Tensor) throws -> (q: Tensor, r: Tensor) {
        let work = try workingCopy(a, "qr")
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        guard k > 0 else { return (Tensor.zeros([m, k]), Tensor.zeros([k, n])) }
        var tau = [Float](repeating: 0, count: k)
        try check(Parallel.withBLAS { LAPACKE_sgeqrf(rowMajor, Int32(m), Int32(n), work.storage.base, Int32(n), &tau) }, "sgeqrf") {
            .lapack(routine: "sgeqrf", info: $0)
        }
        let r = triangle(of: work, rows: k, upper: true)
        // The reflectors occupy the first k columns; sorgqr expands them in place into Q.
        try check(Parallel.withBLAS { LAPACKE_sorgqr(rowMajor, Int32(m), Int32(k), Int32(k), work.storage.base, Int32(n), &tau) }, "sorgqr") {
            .lapack(routine: "sorgqr", info: $0)
        }
        let q = k == n ? work : work.narrowed(axis: 1, start: 0, length: k)
        return (q, r)
    }
}
