import Testing
import Tensor

/// Decompositions verified through their defining identities.
@Suite struct LinalgTests {
    static func identity(_ n: Int) -> Tensor { Tensor(shape: [n, n]) { out in for i in out.indices { out[i] = i / n == i % n ? 1 : 0 } } }
    static func diagonal(_ v: Tensor) -> Tensor {
        let n = v.count
        return Tensor(shape: [n, n]) { out in for i in out.indices { out[i] = i / n == i % n ? v.scalars[i / n] : 0 } }
    }
    static func symmetric(_ n: Int, seed: UInt64) -> Tensor {
        let m = random([n, n], seed: seed)
        return (m + m.transposed()) * 0.5
    }
    static func isTriangular(_ t: Tensor, upper: Bool) -> Bool {
        let n = t.shape[1]
        return t.scalars.enumerated().allSatisfy { i, v in (upper ? i % n >= i / n : i % n <= i / n) || v == 0 }
    }

    @Test(arguments: [1, 3, 6]) func symmetricEigen(_ n: Int) throws {
        let a = Self.symmetric(n, seed: 121)
        let (values, vectors) = try Linalg.symmetricEigen(a)
        expectClose(a.matmul(vectors), vectors * values, tolerance: 1e-5)  // A·V = V·Λ (columns scaled)
        expectClose(vectors.matmul(vectors, transposeSelf: true), Self.identity(n), tolerance: 1e-5)
        #expect(zip(values.scalars, values.scalars.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func knownEigenvalues() throws {
        // tridiag(−1, 2, −1): eigenvalues 2 − √2, 2, 2 + √2.
        let (values, _) = try Linalg.symmetricEigen(Tensor([[2, -1, 0], [-1, 2, -1], [0, -1, 2]]))
        expectClose(values, shape: [3], [2 - 2.0.squareRoot(), 2, 2 + 2.0.squareRoot()].map(Float.init), tolerance: 1e-5)
    }

    @Test(arguments: [[4, 6], [6, 4], [5, 5], [1, 3]]) func svd(_ shape: [Int]) throws {
        let a = random(shape, seed: 122)
        let k = shape.min()!
        let (u, s, vt) = try Linalg.svd(a)
        #expect(u.shape == [shape[0], k] && s.shape == [k] && vt.shape == [k, shape[1]])
        expectClose((u * s).matmul(vt), a, tolerance: 1e-5)  // U·diag(S)·Vᵀ = A
        expectClose(u.matmul(u, transposeSelf: true), Self.identity(k), tolerance: 1e-5)
        expectClose(vt.matmul(vt, transposeOther: true), Self.identity(k), tolerance: 1e-5)
        #expect(s.scalars.allSatisfy { $0 >= 0 })
        #expect(zip(s.scalars, s.scalars.dropFirst()).allSatisfy { $0 >= $1 })

        let full = try Linalg.svd(a, full: true)
        #expect(full.u.shape == [shape[0], shape[0]] && full.vt.shape == [shape[1], shape[1]])
        expectClose(full.u.matmul(full.u, transposeSelf: true), Self.identity(shape[0]), tolerance: 1e-5)
        expectClose(full.vt.matmul(full.vt, transposeOther: true), Self.identity(shape[1]), tolerance: 1e-5)
        expectClose(full.s, s, tolerance: 1e-5)
    }

    @Test(arguments: [1, 4, 7]) func cholesky(_ n: Int) throws {
        let m = random([n, n], seed: 123)
        let a = m.matmul(m, transposeOther: true) + Self.identity(n) * Float(n)
        let l = try Linalg.cholesky(a)
        #expect(Self.isTriangular(l, upper: false))
        expectClose(l.matmul(l, transposeOther: true), a, tolerance: 1e-4)  // L·Lᵀ = A
    }

    @Test func choleskyRejectsIndefiniteMatrices() {
        #expect(throws: LinalgError.notPositiveDefinite(order: 2)) {
            try Linalg.cholesky(Tensor([[1, 2], [2, 1]]))
        }
        let error = LinalgError.notPositiveDefinite(order: 2)
        #expect(error.description == "cholesky: matrix is not positive definite (the leading minor of order 2 is not positive)")
    }

    @Test(arguments: [[5], [5, 3]]) func solve(_ rhs: [Int]) throws {
        let a = random([5, 5], seed: 124) + Self.identity(5) * 3
        let b = random(rhs, seed: 125)
        let x = try Linalg.solve(a, b)
        #expect(x.shape == rhs)
        let column = rhs.count == 1 ? x.reshaped(to: [5, 1]) : x
        expectClose(a.matmul(column).reshaped(to: rhs), b, tolerance: 1e-5)  // A·x = b
    }

    @Test func solveRejectsSingularMatrices() {
        #expect(throws: LinalgError.singular(pivot: 2)) {
            try Linalg.solve(Tensor([[1, 2], [2, 4]]), Tensor([1, 1]))
        }
    }

    @Test(arguments: [[5, 3], [3, 5], [4, 4], [1, 1]]) func qr(_ shape: [Int]) throws {
        let a = random(shape, seed: 126)
        let k = shape.min()!
        let (q, r) = try Linalg.qr(a)
        #expect(q.shape == [shape[0], k] && r.shape == [k, shape[1]])
        #expect(Self.isTriangular(r, upper: true))
        expectClose(q.matmul(r), a, tolerance: 1e-5)  // Q·R = A
        expectClose(q.matmul(q, transposeSelf: true), Self.identity(k), tolerance: 1e-5)  // QᵀQ = I
    }

    @Test func nonFiniteInputsAreRejected() {
        let bad = Tensor([[1, 0], [0, .nan]])
        #expect(throws: LinalgError.nonFiniteInput(operation: "symmetricEigen", row: 1, column: 1)) { try Linalg.symmetricEigen(bad) }
        #expect(throws: LinalgError.self) { try Linalg.svd(bad) }
        #expect(throws: LinalgError.self) { try Linalg.qr(bad) }
        #expect(throws: LinalgError.self) { try Linalg.cholesky(bad) }
        #expect(throws: LinalgError.nonFiniteInput(operation: "solve (right-hand side)", row: 1, column: 0)) {
            try Linalg.solve(Self.identity(2), Tensor([1, .infinity]))
        }
        #expect(LinalgError.nonFiniteInput(operation: "qr", row: 1, column: 1).description == "qr: input has a non-finite value at [1, 1]")
    }

    @Test func resultsAreConstantsAndInputsUntouched() throws {
        let a = Self.symmetric(3, seed: 127).trackingGradients()
        let before = a.scalars
        let (values, vectors) = try Linalg.symmetricEigen(a)
        #expect(!values.requiresGradient && !vectors.requiresGradient)
        #expect(a.scalars == before)
    }
}
