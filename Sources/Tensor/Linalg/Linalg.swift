import CLAPACKE

/// Dense linear algebra on float32 matrices through LAPACKE (row-major).
///
/// Every routine copies its input, so tensors stay immutable; results are constants (no
/// gradient flows through a decomposition). Shapes that are wrong are programming errors and
/// stop with a message; numerical failures reported by LAPACK (`info ≠ 0`) and non-finite
/// inputs are thrown as ``LinalgError``. LAPACK runs on OpenBLAS's threads: call these from
/// ordinary code, never from inside a ``parallelFor(_:grain:_:)`` body.
///
/// ```swift
/// let (values, vectors) = try Linalg.symmetricEigen(covariance)   // PCA of embeddings
/// let (q, _) = try Linalg.qr(Tensor.randomNormal([n, n], using: &rng))   // orthogonal init
/// ```
public enum Linalg {
    /// `LAPACK_ROW_MAJOR` (a macro in `lapacke.h`).
    static let rowMajor = Int32(LAPACK_ROW_MAJOR)

    /// A LAPACK character argument (`"V"`, `"U"`, …).
    static func flag(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

    /// A mutable row-major copy of a matrix, after checking that it is rank 2 and finite.
    static func workingCopy(_ a: Tensor, _ operation: String) throws -> Tensor {
        precondition(a.rank == 2, "\(operation): needs a matrix, got shape \(a.shape)")
        if let bad = a.withUnsafeBufferPointer({ $0.firstIndex { !$0.isFinite } }) {
            throw LinalgError.nonFiniteInput(operation: operation, row: bad / a.shape[1], column: bad % a.shape[1])
        }
        return Tensor(shape: a.shape) { out in
            a.withUnsafeBufferPointer { src in _ = out.initialize(fromContentsOf: src) }
        }
    }

    /// Throws for `info ≠ 0`; `failure` explains a positive `info` (a numerical failure).
    static func check(_ info: Int32, _ routine: String, failure: (Int) -> LinalgError) throws {
        if info == 0 { return }
        if info > 0 { throw failure(Int(info)) }
        throw LinalgError.lapack(routine: routine, info: Int(info))
    }

    /// `m × n` zeros with the upper (or lower) triangle of `a` copied in.
    static func triangle(of a: Tensor, rows: Int, upper: Bool) -> Tensor {
        let n = a.shape[1]
        return Tensor(shape: [rows, n]) { out in
            a.withUnsafeBufferPointer { src in
                for i in 0..<rows {
                    for j in 0..<n { out[i &* n &+ j] = (upper ? j >= i : j <= i) ? src[i &* n &+ j] : 0 }
                }
            }
        }
    }
}
