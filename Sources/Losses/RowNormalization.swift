import Tensor

/// `x / max(‖x‖₂, eps)` for each row of a `[N, D]` tensor — the same function as
/// `l2Normalized(axis: 1)`, fused into one pass with a one-pass backward:
///
///     y = x / n,   n = max(‖x‖, eps)
///     ∂L/∂x = (g − y·(gᵀy)) / n      (‖x‖ > eps),   g / eps   (otherwise)
///
/// Normalising the class weights of a margin head over many identities is the hot spot it
/// exists for (the composed form allocates half a dozen `[N, D]` temporaries each way).
func normalizedRows(_ x: Tensor, eps: Float = 1e-12) -> Tensor {
    precondition(x.rank == 2, "normalizedRows: needs [N, D], got \(x.shape)")
    let rows = x.shape[0], d = x.shape[1]
    var measured = [Float](repeating: 0, count: rows)
    let value = measured.withUnsafeMutableBufferPointer { normBuffer in
        let normBase = normBuffer.baseAddress!
        return Tensor(shape: x.shape) { out in
            let src = x.storage.base, dst = out.baseAddress!
            parallelFor(rows, grain: max(1, 16_384 / max(d, 1))) { range in
                for r in range {
                    let row = src + r &* d
                    let n = max(dot(row, row, d).squareRoot(), eps)
                    normBase[r] = n
                    let inverse = 1 / n, target = dst + r &* d
                    for j in 0..<d { target[j] = row[j] * inverse }
                }
            }
        }
    }
    guard Tensor.needsGradient(x) else { return value }
    let norms = measured, clampedAtEps = measured.map { $0 <= eps }
    return Tensor.recordOperation("normalizedRows", value: value, inputs: [x]) { g in
        [Tensor(shape: [rows, d]) { out in
            let y = value.storage.base, gp = g.storage.base, dst = out.baseAddress!
            parallelFor(rows, grain: max(1, 16_384 / max(d, 1))) { range in
                for r in range {
                    let yr = y + r &* d, gr = gp + r &* d, target = dst + r &* d
                    let inverse = 1 / norms[r]
                    let projection = clampedAtEps[r] ? 0 : dot(gr, yr, d)
                    for j in 0..<d { target[j] = (gr[j] - yr[j] * projection) * inverse }
                }
            }
        }]
    }
}

/// Dot product of `n` contiguous floats with `SIMD8` accumulators.
@inline(__always)
private func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ n: Int) -> Float {
    let rp = UnsafeRawPointer(p), rq = UnsafeRawPointer(q)
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
    var i = 0
    while i &+ 16 <= n {
        a0 += rp.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) * rq.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        a1 += rp.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self) * rq.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
        i &+= 16
    }
    var s = (a0 + a1).sum()
    while i < n { s += p[i] * q[i]; i &+= 1 }
    return s
}
