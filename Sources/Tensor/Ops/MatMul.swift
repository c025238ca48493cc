import CBLAS

/// Matrix products through `cblas_sgemm`, with transposes folded into the GEMM call.
extension Tensor {
    /// `op(self) · op(other)` where `op` transposes the last two axes when asked.
    ///
    /// Both rank 2 (`[m, k] · [k, n]`), or batched rank 3 (`[b, m, k] · [b, k, n]`; a rank-2
    /// operand is shared by every batch element).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition((rank == 2 || rank == 3) && (other.rank == 2 || other.rank == 3),
                     "matmul: needs rank-2 or rank-3 operands, got \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[rank - 1] : shape[rank - 2]
        let k = transposeSelf ? shape[rank - 2] : shape[rank - 1]
        let k2 = transposeOther ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = transposeOther ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        precondition(k == k2, "matmul: inner dimensions differ: \(shape)\(transposeSelf ? "ᵀ" : "") · \(other.shape)\(transposeOther ? "ᵀ" : "") (\(k) vs \(k2))")
        let batchA = rank == 3 ? shape[0] : 1, batchB = other.rank == 3 ? other.shape[0] : 1
        precondition(batchA == batchB || rank == 2 || other.rank == 2,
                     "matmul: batch sizes differ: \(shape) · \(other.shape)")
        let batch = Swift.max(batchA, batchB)
        let resultShape = rank == 2 && other.rank == 2 ? [m, n] : [batch, m, n]
        let value = Tensor(shape: resultShape) { out in
            for b in 0..<batch {
                BLAS.sgemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                           a: storage.base + (rank == 3 ? b * m * k : 0), lda: transposeSelf ? m : k,
                           b: other.storage.base + (other.rank == 3 ? b * k * n : 0), ldb: transposeOther ? k : n,
                           c: out.baseAddress! + b * m * n, ldc: n)
            }
        }
        guard Tensor.needsGradient(self, other) else { return value }
        let a = detached(), bT = other.detached()
        let ta = transposeSelf, tb = transposeOther
        let aShape = shape, bShape = other.shape
        let needA = node != nil, needB = other.node != nil
        return Tensor.recordOperation("matmul", value: value, inputs: [self, other]) { g in
            // C = op(A)·op(B):  dA = g·op(B)ᵀ (or its transpose), dB = op(A)ᵀ·g (or its transpose).
            var da: Tensor? = nil, db: Tensor? = nil
            if needA {
                da = ta ? bT.matmul(g, transposeSelf: tb, transposeOther: true) : g.matmul(bT, transposeOther: !tb)
                if da!.shape != aShape { da = da!.sum(alongAxis: 0) }  // shared rank-2 operand
            }
            if needB {
                db = tb ? g.matmul(a, transposeSelf: true, transposeOther: ta) : a.matmul(g, transposeSelf: !ta)
                if db!.shape != bShape { db = db!.sum(alongAxis: 0) }
            }
            return [da, db]
        }
    }
}

/// Thin wrappers over the BLAS calls the kernels use.
public enum BLAS {
    /// Multiply-adds from which a product outside a parallel region uses OpenBLAS's threads.
    static let threadedWork = 1 << 27

    /// `C = op(A)·op(B)` (row-major, `beta = 0` unless `accumulate`).
    @inline(__always)
    public static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, accumulate: Bool = false) {
        _ = Parallel.blasConfigured
        if k == 0 {
            if !accumulate { for row in 0..<m { for col in 0..<n { c[row * ldc + col] = 0 } } }
            return
        }
        // Products below ``threadedWork`` multiply-adds outside a parallel region: split over our
        // threads (single-threaded OpenBLAS in each) rather than OpenBLAS's own, whose workers
        // busy-wait after every call and take cores from the kernels that follow.
        let threads = Parallel.threadCount
        if threads > 1, m &* n &* k < threadedWork, Swift.max(m, n) >= 2 &* threads, !Parallel.inRegion {
            let splitRows = m >= n
            parallelFor(splitRows ? m : n) { range in
                let a0 = splitRows ? (transposeA ? a + range.lowerBound : a + range.lowerBound &* lda) : a
                let b0 = splitRows ? b : (transposeB ? b + range.lowerBound &* ldb : b + range.lowerBound)
                let c0 = splitRows ? c + range.lowerBound &* ldc : c + range.lowerBound
                cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                            Int32(splitRows ? range.count : m), Int32(splitRows ? n : range.count), Int32(k), alpha,
                            a0, Int32(Swift.max(lda, 1)), b0, Int32(Swift.max(ldb, 1)), accumulate ? 1 : 0, c0, Int32(Swift.max(ldc, 1)))
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(Swift.max(lda, 1)), b, Int32(Swift.max(ldb, 1)),
                    accumulate ? 1 : 0, c, Int32(Swift.max(ldc, 1)))
    }
}
