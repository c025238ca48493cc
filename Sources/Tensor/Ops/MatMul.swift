import CBLAS

/// Matrix products through `cblas_sgemm`, with transposes folded into the GEMM call.
extension Tensor {
    /// `op(self) · op(other)` where `op` transposes the last two axes when asked.
    ///
    /// Both rank 2 (`[m, k] · [k, n]`), or batched rank 3 (`[b, m, k] · [b, k, n]`; a rank-2
    /// operand is shared by every batch element; `b` may be 0).
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
        // The rank-3 operand's batch (which may be 0); a rank-2 operand is shared by every element.
        let batch = rank == 3 ? batchA : batchB
        let resultShape = rank == 2 && other.rank == 2 ? [m, n] : [batch, m, n]
        let value = Tensor(shape: resultShape) { out in
            for b in 0..<batch {
                BLAS.sgemmAcrossThreads(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
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
    /// Multiply-adds from which ``sgemmAcrossThreads`` leaves the threads to OpenBLAS.
    static let threadedWork = 1 << 27

    /// ``sgemm`` for products issued from ordinary code (`Tensor.matmul`): below
    /// ``threadedWork`` multiply-adds it is cut into ``Parallel/threadCount`` parts by rows of
    /// `C` (or by columns, when there are more of them), each a single-threaded call in one
    /// `parallelFor` region, rather than left to OpenBLAS's threads, whose workers busy-wait after
    /// every call and take cores from the kernels that follow. The parts depend only on the
    /// shape and the thread count, so the result does too (also when the call is nested in a
    /// region and the parts run one after the other).
    static func sgemmAcrossThreads(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                                   a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int) {
        let parts = Parallel.threadCount, splitRows = m >= n, extent = splitRows ? m : n
        guard parts > 1, k > 0, m &* n &* k < threadedWork, extent >= 2 &* parts else {
            return sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                         c: c, ldc: ldc)
        }
        parallelFor(parts) { range in
            for part in range {
                let span = (extent &* part / parts)..<(extent &* (part &+ 1) / parts)
                sgemmBlock(transposeA: transposeA, transposeB: transposeB, rows: splitRows ? span : 0..<m,
                           columns: splitRows ? 0..<n : span, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            }
        }
    }

    /// ``sgemm`` of the block `rows × columns` of `C = op(A)·op(B)` (`C` overwritten there).
    @inline(__always)
    static func sgemmBlock(transposeA: Bool, transposeB: Bool, rows: Range<Int>, columns: Range<Int>, k: Int,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int) {
        let row = rows.lowerBound, column = columns.lowerBound
        sgemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: columns.count, k: k,
              a: transposeA ? a + row : a + row &* lda, lda: lda, b: transposeB ? b + column &* ldb : b + column, ldb: ldb,
              c: c + (row &* ldc &+ column), ldc: ldc)
    }

    /// Multiply-adds up to which OpenBLAS computes a product in its "small-matrix" kernels on
    /// AVX-512 cores (`M·N·K ≤ 100³`): straight from the operands, without packing them first,
    /// and for `C = op(A)·B` without clearing `C` before the kernel adds into it.
    static let smallProductWork = 1_000_000
    /// Products cut by ``sgemmInSmallParts`` have at most this many rows and this depth.
    static let smallPartsLimit = 512
    /// Whether the OpenBLAS core in use has single-precision small-matrix kernels (its AVX-512
    /// cores); elsewhere every part would be packed like the whole, and ``sgemmInSmallParts``
    /// makes one call.
    static let hasSmallMatrixKernels: Bool = {
        let core = BLASCore.name.lowercased()
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(core)
    }()

    /// `C = op(A)·B` (`C` overwritten) cut into blocks of `C` of at most ``smallProductWork``
    /// multiply-adds each (whole columns, 16 at a time, or else row blocks of 16 at a time) when
    /// `C` has at most ``smallPartsLimit`` rows, the depth is at most as much and OpenBLAS has
    /// small-matrix kernels (``hasSmallMatrixKernels``): such products of a few million
    /// multiply-adds (1×1 convolutions on small planes, forward and input gradient) run 10–30 %
    /// faster there than packed; taller products with narrow blocks ran slower. Every element is
    /// the same depth-`k` dot product as in one call.
    public static func sgemmInSmallParts(transposeA: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                         b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard hasSmallMatrixKernels, m &* n &* k > smallProductWork, m <= smallPartsLimit, k <= smallPartsLimit, m > 0, n > 0, k > 0
        else {
            return sgemm(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        }
        var columns = smallProductWork / (m &* k) / 16 &* 16, rows = m
        if columns < 16 {
            columns = Swift.min(n, 64)
            rows = Swift.max(16, smallProductWork / (columns &* k) / 16 &* 16)
        }
        for row in Swift.stride(from: 0, to: m, by: rows) {
            for column in Swift.stride(from: 0, to: n, by: columns) {
                sgemmBlock(transposeA: transposeA, transposeB: false, rows: row..<Swift.min(row &+ rows, m),
                           columns: column..<Swift.min(column &+ columns, n), k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            }
        }
    }

    /// Whether ``sgemm`` clears `C` itself and has OpenBLAS add the product into it, instead of
    /// passing `beta = 0`: on the cores without small-matrix kernels (every core but the AVX-512
    /// ones) a fill of each row is at least as fast as OpenBLAS's clearing, and on the x86 ones
    /// several times faster (its generic `gemm_beta`, one scalar store per element, took 4.6 % of
    /// a W5b step on an AMD EPYC of family 23). The AVX-512 cores clear with vector stores, and
    /// their small-matrix kernels write `C` without reading it.
    static let clearsOutputItself = !hasSmallMatrixKernels

    /// `C = op(A)·op(B)` (row-major, `beta = 0` unless `accumulate`).
    @inline(__always)
    public static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, accumulate: Bool = false) {
        let clearFirst = !accumulate && (k == 0 || clearsOutputItself)
        if clearFirst {
            if ldc == n {
                c.update(repeating: 0, count: m &* n)
            } else {
                for row in 0..<m { (c + row &* ldc).update(repeating: 0, count: n) }
            }
        }
        guard k > 0 else { return }
        Parallel.withBLAS {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(Swift.max(lda, 1)), b, Int32(Swift.max(ldb, 1)),
                        accumulate || clearFirst ? 1 : 0, c, Int32(Swift.max(ldc, 1)))
        }
    }
}
