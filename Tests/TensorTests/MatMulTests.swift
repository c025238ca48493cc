import Testing
import Tensor

/// Matrix products (transposes folded into the GEMM) against a naive reference.
@Suite struct MatMulTests {
    /// Naive `op(a)·op(b)` for rank-2 operands.
    static func reference(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> Tensor {
        let a = ta ? a.transposed() : a, b = tb ? b.transposed() : b
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        return Tensor(shape: [m, n], scalars: (0..<m * n).map { e in
            (0..<k).reduce(Float(0)) { $0 + a[e / n, $1] * b[$1, e % n] }
        })
    }

    static let transposes = [(false, false), (true, false), (false, true), (true, true)]

    @Test(arguments: transposes) func rank2(_ ta: Bool, _ tb: Bool) {
        let a = random(ta ? [4, 3] : [3, 4], seed: 81), b = random(tb ? [5, 4] : [4, 5], seed: 82)
        let c = a.matmul(b, transposeSelf: ta, transposeOther: tb)
        expectClose(c, Self.reference(a, b, ta, tb))
        expectGradients([a, b]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
    }

    /// Products outside a parallel region are split over the threads by rows of the result
    /// (more rows than columns) or by columns; with every transpose, and accumulating.
    @Test(arguments: transposes) func splitProducts(_ ta: Bool, _ tb: Bool) {
        for (m, k, n) in [(9, 6, 4), (3, 6, 11), (5, 1, 5)] {
            let a = random(ta ? [k, m] : [m, k], seed: 85), b = random(tb ? [n, k] : [k, n], seed: 86)
            let expected = Self.reference(a, b, ta, tb)
            expectClose(a.matmul(b, transposeSelf: ta, transposeOther: tb), expected)
            var c = [Float](repeating: 1, count: m * n)
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: ta ? m : k,
                               b: pb.baseAddress!, ldb: tb ? k : n, c: &c, ldc: n, alpha: 2, accumulate: true)
                }
            }
            expectClose(Tensor(shape: [m, n], scalars: c), expected * 2 + 1)
        }
    }

    /// Without `accumulate`, `C` is overwritten whatever it held (NaN included), on every
    /// OpenBLAS core (some clear `C` themselves, others have ``BLAS`` clear it first); a row
    /// stride wider than `C` leaves the places between rows alone; a depth of 0 gives zeros.
    @Test(arguments: transposes) func overwritesOutput(_ ta: Bool, _ tb: Bool) {
        for (m, k, n) in [(7, 5, 3), (2, 9, 17), (4, 0, 6)] {
            let a = random(ta ? [k, m] : [m, k], seed: 87), b = random(tb ? [n, k] : [k, n], seed: 88)
            let ldc = n + 2
            var c = [Float](repeating: .nan, count: m * ldc)
            (a.scalars + [0]).withUnsafeBufferPointer { pa in  // one more element: a valid address at depth 0
                (b.scalars + [0]).withUnsafeBufferPointer { pb in
                    BLAS.sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: Swift.max(ta ? m : k, 1),
                               b: pb.baseAddress!, ldb: Swift.max(tb ? k : n, 1), c: &c, ldc: ldc)
                }
            }
            let product = (0..<m).flatMap { row in c[row * ldc..<row * ldc + n] }
            let expected = k == 0 ? Tensor.zeros([m, n]) : Self.reference(a, b, ta, tb)
            expectClose(Tensor(shape: [m, n], scalars: product), expected)
            #expect((0..<m).allSatisfy { row in c[row * ldc + n..<row * ldc + ldc].allSatisfy(\.isNaN) }, "\(m)×\(k)×\(n)")
        }
    }

    /// Products cut for OpenBLAS's small-matrix kernels equal one call: by columns (the last
    /// block narrower), by rows when one 16-column block is already too much work, with `A`
    /// transposed, and left whole when too tall, too deep or small enough already.
    @Test(arguments: [false, true]) func smallParts(_ ta: Bool) {
        for (m, n, k) in [(128, 300, 64), (512, 20, 128), (64, 500, 128), (600, 40, 64), (64, 64, 600), (32, 40, 16)] {
            let a = random(ta ? [k, m] : [m, k], seed: 89), b = random([k, n], seed: 90)
            var whole = [Float](repeating: .nan, count: m * n), parts = whole
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    BLAS.sgemm(transposeA: ta, transposeB: false, m: m, n: n, k: k, a: pa.baseAddress!, lda: ta ? m : k,
                               b: pb.baseAddress!, ldb: n, c: &whole, ldc: n)
                    BLAS.sgemmInSmallParts(transposeA: ta, m: m, n: n, k: k, a: pa.baseAddress!, lda: ta ? m : k,
                                           b: pb.baseAddress!, ldb: n, c: &parts, ldc: n)
                }
            }
            expectClose(Tensor(shape: [m, n], scalars: parts), Tensor(shape: [m, n], scalars: whole), tolerance: 1e-4,
                        "\(m)×\(n)×\(k)")
        }
    }

    @Test(arguments: transposes) func batched(_ ta: Bool, _ tb: Bool) {
        let a = random(ta ? [2, 4, 3] : [2, 3, 4], seed: 83), b = random(tb ? [2, 5, 4] : [2, 4, 5], seed: 84)
        let c = a.matmul(b, transposeSelf: ta, transposeOther: tb)
        #expect(c.shape == [2, 3, 5])
        for i in 0..<2 {
            let ai = a.narrowed(axis: 0, start: i, length: 1).squeezed(axis: 0)
            let bi = b.narrowed(axis: 0, start: i, length: 1).squeezed(axis: 0)
            expectClose(c.narrowed(axis: 0, start: i, length: 1).squeezed(axis: 0), Self.reference(ai, bi, ta, tb))
        }
        expectGradients([a, b]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
    }

    @Test(arguments: transposes) func sharedRank2Operand(_ ta: Bool, _ tb: Bool) {
        // A rank-2 operand is used by every batch element: its gradient sums over the batch.
        let w = random(ta ? [4, 3] : [3, 4], seed: 85), x = random(tb ? [2, 5, 4] : [2, 4, 5], seed: 86)
        expectGradients([w, x]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
        let v = random(tb ? [5, 4] : [4, 5], seed: 87), y = random(ta ? [2, 4, 3] : [2, 3, 4], seed: 88)
        expectGradients([y, v]) { $0[0].matmul($0[1], transposeSelf: ta, transposeOther: tb) }
    }

    @Test func repeatedOperand() {
        // x·xᵀ and x·x use one tensor twice: both gradient paths must be added.
        expectGradients([random([3, 3], seed: 89)]) { $0[0].matmul($0[0], transposeOther: true) }
        expectGradients([random([3, 3], seed: 90)]) { $0[0].matmul($0[0]) }
    }

    @Test func emptyInnerDimension() {
        let c = Tensor.zeros([2, 0]).matmul(Tensor.zeros([0, 3]))
        #expect(c.shape == [2, 3])
        #expect(c.scalars == [Float](repeating: 0, count: 6))
    }
}
