/// A numerical failure of a ``Linalg`` routine (LAPACK `info ≠ 0`) or an unusable input.
public enum LinalgError: Error, CustomStringConvertible, Equatable {
    /// Cholesky: the leading minor of this order is not positive (`spotrf` info > 0).
    case notPositiveDefinite(order: Int)
    /// Solve: the LU factor `U(pivot, pivot)` (1-based) is exactly zero (`sgesv` info > 0).
    case singular(pivot: Int)
    /// An iterative routine did not converge (`ssyevd`, `sgesdd` info > 0).
    case noConvergence(routine: String, info: Int)
    /// The input holds NaN or ±∞ at this (0-based) position.
    case nonFiniteInput(operation: String, row: Int, column: Int)
    /// LAPACK rejected an argument (`info < 0`) or could not allocate its workspace.
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let order):
            "cholesky: matrix is not positive definite (the leading minor of order \(order) is not positive)"
        case .singular(let pivot):
            "solve: matrix is singular (U(\(pivot), \(pivot)) of its LU factorisation is exactly zero)"
        case .noConvergence(let routine, let info):
            "\(routine): the algorithm did not converge (info \(info))"
        case .nonFiniteInput(let operation, let row, let column):
            "\(operation): input has a non-finite value at [\(row), \(column)]"
        case .lapack(let routine, let info):
            switch info {
            case -1010: "\(routine): LAPACKE could not allocate its workspace"
            case -1011: "\(routine): LAPACKE could not allocate its row-major transposition buffer"
            default: "\(routine): LAPACK rejected argument \(-info) (info \(info))"
            }
        }
    }
}
