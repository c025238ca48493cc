import Tensor

/// A kernel for ``maximumMeanDiscrepancy(_:_:kernel:includeTargetTerm:)``.
public enum MMDKernel: Sendable, Equatable {
    /// `k(x, y) = xᵀy`; MMD² = `‖mean x − mean y‖²`.
    case linear
    /// `k(x, y) = (xᵀy + c)^d`. NST's default is `d = 2, c = 0`.
    case polynomial(degree: Int = 2, offset: Float = 0)
    /// `k(x, y) = exp(−‖x − y‖² / 2σ²)`; `σ² = nil` uses the mean-distance rule below. A fixed
    /// σ² must be finite and positive (checked by
    /// ``maximumMeanDiscrepancy(_:_:kernel:includeTargetTerm:)`` and by the losses' initialisers).
    case gaussian(variance: Float? = nil)
    /// The mean of Gaussian kernels with `σ²_k = σ²·m_k` (multi-kernel MMD, Long et al.,
    /// "Learning Transferable Features with Deep Adaptation Networks", ICML 2015), default
    /// multipliers `2^−2 … 2^2`; base `σ² = nil` uses the mean-distance rule. Multipliers and a
    /// fixed σ² must be finite and positive.
    case multiGaussian(multipliers: [Float] = [0.25, 0.5, 1, 2, 4], variance: Float? = nil)

    /// NST's kernel (`(xᵀy)²`).
    public static let nstPolynomial = MMDKernel.polynomial(degree: 2, offset: 0)
}

/// Biased (V-statistic) squared maximum mean discrepancy between two sets of vectors
/// (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012):
///
///     MMD² = mean_{i,i′} k(x_i, x_i′) + mean_{j,j′} k(y_j, y_j′) − 2·mean_{i,j} k(x_i, y_j)
///
/// `x` is `[n, D]` and `y` `[m, D]` (a scalar result), or batched `[B, n, D]` and `[B, m, D]`
/// (a `[B]` result; each batch element its own pair of sets). `n` and `m` may differ; zero
/// for identical sets. Gradients flow into both sides (detach the one that is constant).
///
/// **Bandwidth rule** (Gaussian kernels with no fixed σ²): σ² is the mean squared distance
/// over all ordered pairs of distinct vectors of the pooled set `x ∪ y`,
/// `Σ_{i≠j}‖z_i − z_j‖² / (N(N − 1))`, computed without gradient (a constant per step, per
/// batch element): its dependence on the inputs is not differentiated, as in the DAN
/// reference code's "mean heuristic" (which sums five kernels where we average them). Falls
/// back to 1 when all vectors coincide.
///
/// `includeTargetTerm: false` drops the `y–y` term, which is constant when `y` is: NST's
/// reference code does this (its value is then not zero for identical inputs).
///
/// A fixed Gaussian σ² (or multiplier) that is not finite and positive, or a polynomial degree
/// below 1, is a precondition failure.
public func maximumMeanDiscrepancy(_ x: Tensor, _ y: Tensor, kernel: MMDKernel = .nstPolynomial,
                                   includeTargetTerm: Bool = true) -> Tensor {
    precondition((x.rank == 2 || x.rank == 3) && x.rank == y.rank,
                 "maximumMeanDiscrepancy: needs [n, D] and [m, D] (or [B, n, D] and [B, m, D]), got \(x.shape) and \(y.shape)")
    if x.rank == 2 {
        return maximumMeanDiscrepancy(x.unsqueezed(axis: 0), y.unsqueezed(axis: 0), kernel: kernel,
                                      includeTargetTerm: includeTargetTerm).reshaped(to: [])
    }
    precondition(x.shape[0] == y.shape[0] && x.shape[2] == y.shape[2],
                 "maximumMeanDiscrepancy: batch or vector dimension differs: \(x.shape) vs \(y.shape)")
    precondition(x.shape[1] > 0 && y.shape[1] > 0, "maximumMeanDiscrepancy: empty set in \(x.shape) or \(y.shape)")
    kernel.checkParameters("maximumMeanDiscrepancy")
    let n = x.shape[1], m = y.shape[1], d = x.shape[2]

    switch kernel {
    case .linear:
        let mx = x.mean(alongAxis: 1), my = y.mean(alongAxis: 1)
        let cross = (mx * my).sum(alongAxis: 1)
        let xx = mx.square().sum(alongAxis: 1)
        return includeTargetTerm ? xx + my.square().sum(alongAxis: 1) - 2 * cross : xx - 2 * cross
    case .polynomial(let degree, let offset) where degree == 2 && offset == 0 && d * d < n * m:
        // Σ_{i,j} (x_iᵀy_j)² = ⟨XᵀX, YᵀY⟩_F: D×D Gram matrices are cheaper than n×m kernels.
        let gx = x.matmul(x, transposeSelf: true) / Float(n), gy = y.matmul(y, transposeSelf: true) / Float(m)
        let xx = gx.square().sum(alongAxes: [1, 2]), cross = (gx * gy).sum(alongAxes: [1, 2])
        return includeTargetTerm ? xx + gy.square().sum(alongAxes: [1, 2]) - 2 * cross : xx - 2 * cross
    default:
        let variance = kernel.needsBandwidth ? pooledMeanSquaredDistance(x, y) : nil
        func meanKernel(_ a: Tensor, _ b: Tensor) -> Tensor {
            kernel.evaluate(a, b, variance: variance).mean(alongAxes: [1, 2])
        }
        let xx = meanKernel(x, x), cross = meanKernel(x, y)
        return includeTargetTerm ? xx + meanKernel(y, y) - 2 * cross : xx - 2 * cross
    }
}

extension MMDKernel {
    /// Stops with a message naming `caller` when the kernel's parameters are invalid: a fixed
    /// Gaussian σ² (or a multiplier) that is not finite and positive, or a polynomial degree < 1.
    func checkParameters(_ caller: String) {
        switch self {
        case .linear:
            break
        case .polynomial(let degree, _):
            precondition(degree >= 1, "\(caller): polynomial kernel degree must be at least 1, got \(degree)")
        case .gaussian(let variance):
            precondition(variance.map { $0.isFinite && $0 > 0 } ?? true,
                         "\(caller): Gaussian kernel variance σ² must be finite and positive (or nil for the bandwidth rule), got \(variance!)")
        case .multiGaussian(let multipliers, let variance):
            precondition(!multipliers.isEmpty && multipliers.allSatisfy { $0.isFinite && $0 > 0 },
                         "\(caller): multi-Gaussian kernel multipliers must be finite and positive, got \(multipliers)")
            precondition(variance.map { $0.isFinite && $0 > 0 } ?? true,
                         "\(caller): multi-Gaussian kernel variance σ² must be finite and positive (or nil for the bandwidth rule), got \(variance!)")
        }
    }

    var needsBandwidth: Bool {
        switch self {
        case .gaussian(let variance), .multiGaussian(_, let variance): return variance == nil
        default: return false
        }
    }

    /// Kernel matrices `[B, n, m]`; `variance` `[B, 1, 1]` when the bandwidth rule applies.
    func evaluate(_ a: Tensor, _ b: Tensor, variance: Tensor?) -> Tensor {
        let dot = a.matmul(b, transposeOther: true)
        switch self {
        case .linear:
            return dot
        case .polynomial(let degree, let offset):
            let base = offset == 0 ? dot : dot + offset
            return (1..<degree).reduce(base) { power, _ in power * base }
        case .gaussian(let fixed):
            let distances = squaredDistances(a, b, dot: dot)
            let sigma2 = fixed.map { Tensor($0) } ?? variance!
            return (distances / (sigma2 * -2)).exp()
        case .multiGaussian(let multipliers, let fixed):
            let distances = squaredDistances(a, b, dot: dot)
            let sigma2 = fixed.map { Tensor($0) } ?? variance!
            let sum = multipliers.map { (distances / (sigma2 * (-2 * $0))).exp() }
            return sum.dropFirst().reduce(sum[0], +) / Float(multipliers.count)
        }
    }
}

/// `‖a_i − b_j‖²` as `[B, n, m]`, from `‖a‖² + ‖b‖² − 2aᵀb`, floored at 0.
func squaredDistances(_ a: Tensor, _ b: Tensor, dot: Tensor) -> Tensor {
    let na = a.square().sum(alongAxis: 2, keepingDimensions: true)
    let nb = b.square().sum(alongAxis: 2).unsqueezed(axis: 1)
    return (na + nb - 2 * dot).relu()
}

/// The bandwidth rule: mean squared distance between distinct vectors of `x ∪ y`, `[B, 1, 1]`,
/// a constant. Uses `Σ_{i,j}‖z_i − z_j‖² = 2N·Σ‖z_i‖² − 2‖Σz_i‖²`.
func pooledMeanSquaredDistance(_ x: Tensor, _ y: Tensor) -> Tensor {
    withoutGradients {
        let z = Tensor.concatenate([x.detached(), y.detached()], axis: 1)
        let count = Float(z.shape[1])
        let squares = z.square().sum(alongAxes: [1, 2])
        let total = z.sum(alongAxis: 1).square().sum(alongAxis: 1)
        let mean = (squares * (2 * count) - total * 2) / max(count * (count - 1), 1)
        let safe = Tensor(shape: mean.shape) { out in
            for i in 0..<out.count { let v = mean.storage.base[i]; out[i] = v > 1e-12 ? v : 1 }
        }
        return safe.reshaped(to: [z.shape[0], 1, 1])
    }
}
