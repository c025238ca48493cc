import CLAPACKE

extension Linalg {
    /// Singular value decomposition `A = U · diag(S) · Vᵀ` of an `m × n` matrix, singular
    /// values descending and non-negative (LAPACK `sgesdd`, divide and conquer).
    ///
    /// With `full: false` (the default) `U` is `m × k`, `S` has `k = min(m, n)` values and `Vᵀ`
    /// is `k × n`; with `full: true` `U` is `m × m` and `Vᵀ` is `n × n`.
    ///
    /// - Throws: ``LinalgError/noConvergence(routine:info:)``, ``LinalgError/nonFiniteInput(operation:row:column:)``.
    public static func svd(_ a: Tensor, full: Bool = false) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        let work = try workingCopy(a, "svd")
        let m = a.shape[0], n = a.shape[1], k = Swift.min(m, n)
        let uColumns = full ? m : k, vtRows = full ? n : k
        let u = Tensor(shape: [m, uColumns]) { $0.initialize(repeating: 0) }
        let s = Tensor(shape: [k]) { _ in }
        let vt = Tensor(shape: [vtRows, n]) { $0.initialize(repeating: 0) }
        guard k > 0 else { return (u, s, vt) }
        let info = Parallel.withBLAS {
            LAPACKE_sgesdd(rowMajor, flag(full ? "A" : "S"), Int32(m), Int32(n), work.storage.base, Int32(n), s.storage.base,
                           u.storage.base, Int32(uColumns), vt.storage.base, Int32(n))
        }
        try check(info, "sgesdd") { .noConvergence(routine: "sgesdd", info: $0) }
        return (u, s, vt)
    }
}
