import Tensor

/// Log-likelihood of rankings under the Plackett–Luce model, one ranking per row.
///
/// Each row of `scores [N, n]` holds the scores of `n` items *in ranked order* (best first):
///
///     log P(π) = Σ_{i<n} ( s_i − log Σ_{k≥i} exp s_k )
///     ∂ log P / ∂s_j = 1 − Σ_{i≤j} exp(s_j − L_i),   L_i = log Σ_{k≥i} exp s_k
///
/// Fused: suffix log-sum-exps by a stable reverse recursion, `O(n²)` backward per row.
/// Returns `[N]`.
///
/// A score of `−∞` is an item of probability 0 (`exp(−∞) = 0`): the log-likelihood is `−∞` if
/// such an item is chosen before the last position (the last has probability 1 whatever its
/// score) and finite otherwise (never NaN when the other scores are finite); its gradient is
/// the limit of the finite case.
public func plackettLuceLogLikelihood(_ scores: Tensor) -> Tensor {
    precondition(scores.rank == 2 && scores.shape[1] > 0, "plackettLuceLogLikelihood: needs [N, n] scores with n ≥ 1, got \(scores.shape)")
    let rows = scores.shape[0], n = scores.shape[1]
    let suffix = TensorStorage(count: rows * n)
    let value = Tensor(shape: [rows]) { out in
        let s = scores.storage.base, l = suffix.base
        parallelFor(rows, grain: max(1, 2048 / n)) { range in
            for r in range {
                let row = s + r &* n, lse = l + r &* n
                lse[n - 1] = row[n - 1]
                var i = n - 2
                while i >= 0 {
                    let a = row[i], b = lse[i + 1], m = Swift.max(a, b)
                    // All of items i… at −∞: their log-sum-exp is −∞ (not −∞ − (−∞) = NaN).
                    lse[i] = m == -.infinity ? m : m + Foundation.log(Foundation.exp(a - m) + Foundation.exp(b - m))
                    i -= 1
                }
                // A −∞ item chosen while others remain: log 0 (its L_i may be −∞ too). The last
                // item's term is log 1 = 0, whatever its score.
                var total: Float = 0
                for i in 0..<(n - 1) { total += row[i] == -.infinity ? -.infinity : row[i] - lse[i] }
                out[r] = total
            }
        }
    }
    guard Tensor.needsGradient(scores) else { return value }
    let constant = scores.detached()
    return Tensor.recordOperation("plackettLuceLogLikelihood", value: value, inputs: [scores]) { g in
        [Tensor(shape: [rows, n]) { out in
            let s = constant.storage.base, l = suffix.base, gp = g.storage.base, dst = out.baseAddress!
            parallelFor(rows, grain: max(1, 2048 / (n * n))) { range in
                for r in range {
                    let row = s + r &* n, lse = l + r &* n
                    for j in 0..<n {
                        // Σ_{i≤j} P_i(j); an item at −∞ has probability 0 at every stage but
                        // the last, where it is alone (also where L_i = −∞ and exp would be NaN).
                        var p: Float = 0
                        if row[j] == -.infinity {
                            p = j == n - 1 ? 1 : 0
                        } else {
                            for i in 0...j { p += Foundation.exp(row[j] - lse[i]) }
                        }
                        dst[r &* n &+ j] = gp[r] * (1 - p)
                    }
                }
            }
        }]
    }
}

/// All permutations of `0..<k` in lexicographic order, flattened (`k!·k` indices).
func allPermutations(_ k: Int) -> [Int] {
    var current = Array(0..<k), result: [Int] = []
    result.reserveCapacity((1...max(k, 1)).reduce(1, *) * k)
    while true {
        result += current
        // Next lexicographic permutation.
        guard var i = current.indices.dropLast().last(where: { current[$0] < current[$0 + 1] }) else { break }
        var j = k - 1
        while current[j] <= current[i] { j -= 1 }
        current.swapAt(i, j)
        i += 1
        current[i...].reverse()
    }
    return result
}

import Foundation
