import Tensor
import Layers

/// DarkRank: transfer of the teacher's cross-sample similarity rankings (Chen, Wang, Zhang,
/// "DarkRank: Accelerating Deep Metric Learning via Cross Sample Similarities Transfer",
/// AAAI 2018; TuSimple/DarkRank).
///
/// Every sample of the batch is a query `q`; the others are candidates, scored
/// `S(x_i) = −α·‖x_q − x_i‖^β` (embeddings L2-normalised first by default). Rankings are
/// Plackett–Luce distributions over these scores (``plackettLuceLogLikelihood(_:)``):
///
/// - **soft** (`.soft(listLength: k)`, TuSimple `listnet_loss.py`): over the teacher's top-k
///   candidates, `KL(P_T ‖ P_S) = Σ_π P_T(π)·log(P_T(π)/P_S(π))` over all k! permutations of
///   those k items. `objective: .crossEntropy` gives the code's `−Σ P_T log P_S` (KL plus the
///   teacher's entropy: same gradient). k ≤ ``maximumSoftListLength`` (8! = 40 320
///   permutations per query); cost grows as `B·k!·k²`.
/// - **hard** (`.hard(listLength: nil)`, `listmle_loss.py`): `−log P_S(π_T)`, the student's
///   likelihood of the teacher's full ranking of all other samples; `listLength: k` truncates
///   the ranking to the teacher's top k (lenscloth/RKD's `HardDarkRank`).
///
/// Losses are averaged over queries, so the value is invariant to a permutation of the batch.
/// Ranks are by the teacher's distances (ties by batch index); teacher embeddings are constants.
///
/// Defaults α = 3, β = 3, k = 4 (the paper). Paper vs code: the code scales features by
/// `√scale` and scores `−(d²)^power`, i.e. `α = scale^power`, `β = 2·power` (its README example
/// `scale 3.5, power 2` is α = 12.25, β = 4; ``init(referenceScale:power:mode:)``). The code uses
/// only the first half of the batch as queries (`queries: .firstHalf`, not permutation
/// invariant), adds 1e-12 inside the hard loss's log (we don't), and its hand-written gradient
/// ignores the query's own feature; autodiff here differentiates everything.
///
/// Needs `student.embedding [B, D_s]` and `teacher.embedding [B, D_t]` (dimensions may differ:
/// only distances are compared) and `B ≥` ``minimumBatch``. List lengths are at least 2 (a
/// Plackett–Luce list of one item has probability 1: a loss of 0), and `α·2^β` — the largest
/// score magnitude for unit-norm embeddings — must be finite in `Float`.
public final class DarkRank: TransferLoss {
    public enum Mode: Sendable, Equatable {
        case soft(listLength: Int)
        case hard(listLength: Int?)
    }
    public enum SoftObjective: Sendable, Equatable { case kullbackLeibler, crossEntropy }
    public enum Queries: Sendable, Equatable { case all, firstHalf }

    /// Largest soft list length (8! permutations per query).
    public static let maximumSoftListLength = 8
    public static let defaultWeight: Float = 1

    public let mode: Mode
    public let alpha: Float, beta: Float
    public let objective: SoftObjective
    public let queries: Queries
    public let normalizesEmbeddings: Bool
    private let permutations: [Int]

    public init(mode: Mode = .soft(listLength: 4), alpha: Float = 3, beta: Float = 3,
                objective: SoftObjective = .kullbackLeibler, queries: Queries = .all, normalizesEmbeddings: Bool = true) {
        precondition(alpha > 0 && alpha.isFinite && beta > 0 && beta.isFinite,
                     "DarkRank: α and β must be positive and finite, got α = \(alpha), β = \(beta)")
        precondition(Self.largestScoreMagnitude(alpha: alpha, beta: beta) <= Self.maximumScoreMagnitude,
                     "DarkRank: α·2^β (the largest score magnitude, at distance 2) must be at most \(Self.maximumScoreMagnitude), got α = \(alpha), β = \(beta); lower α or β")
        switch mode {
        case .soft(let k):
            precondition(k >= 2, "DarkRank: soft list length must be at least 2 (a list of one item has probability 1), got \(k)")
            precondition(k <= Self.maximumSoftListLength,
                         "DarkRank: soft list length \(k) needs \(k)! permutations per query; at most \(Self.maximumSoftListLength) is supported (use .hard for long lists)")
            permutations = allPermutations(k)
        case .hard(let k):
            precondition(k.map { $0 >= 2 } ?? true, "DarkRank: hard list length must be at least 2 (a list of one item has probability 1), got \(k!)")
            permutations = []
        }
        self.mode = mode
        self.alpha = alpha
        self.beta = beta
        self.objective = objective
        self.queries = queries
        self.normalizesEmbeddings = normalizesEmbeddings
    }

    /// The reference code's parametrisation: `α = scale^power`, `β = 2·power` (scale and power
    /// positive and finite).
    public convenience init(referenceScale scale: Float, power: Float, mode: Mode = .soft(listLength: 4)) {
        precondition(scale > 0 && scale.isFinite && power > 0 && power.isFinite,
                     "DarkRank(referenceScale:power:): scale and power must be positive and finite, got scale = \(scale), power = \(power)")
        self.init(mode: mode, alpha: Foundation.pow(scale, power), beta: 2 * power, objective: .crossEntropy)
    }

    public var name: String {
        if case .soft = mode { return "darkrank-soft" }
        return "darkrank-hard"
    }

    /// The smallest batch the loss takes: every query ranks the other samples, `.soft(k)` its
    /// `k` nearest (so `k + 1`), `.hard` at least 2 of them (so 3: a list of one is a loss of 0).
    public var minimumBatch: Int {
        if case .soft(let k) = mode { return k + 1 }
        return 3
    }

    private var batchRule: String {
        if case .soft = mode { return "more than the list length" }
        return "every query ranks at least 2 others"
    }

    /// `α·2^β`: the largest score magnitude `α·‖x_q − x_i‖^β` for unit-norm embeddings (their
    /// distances are at most 2), computed in `Float`; the initialiser requires it at most
    /// ``maximumScoreMagnitude``.
    public static func largestScoreMagnitude(alpha: Float, beta: Float) -> Float {
        alpha * Foundation.pow(2, beta)
    }

    /// The bound on ``largestScoreMagnitude(alpha:beta:)``: a Plackett–Luce log-likelihood adds
    /// one score per list position, so with scores up to 10³⁰ lists of up to 3·10⁸ items stay
    /// finite in Float (merely finite scores could sum to −∞).
    public static let maximumScoreMagnitude: Float = 1e30

    /// Per-query losses `[Q]` (queries in batch order) for `[B, D]` student and teacher embeddings.
    public func queryLosses(student: Tensor, teacher: Tensor) -> Tensor {
        trapping { try checkEmbeddings(student: student.shape, teacher: teacher.shape) }
        let b = student.shape[0]
        let s = normalizesEmbeddings ? student.l2Normalized(axis: 1) : student
        let t = withoutGradients { normalizesEmbeddings ? teacher.detached().l2Normalized(axis: 1) : teacher.detached() }
        let queryIndices = Array(0..<(queries == .all ? b : max(1, b / 2)))

        // Teacher's ranking of the other samples for every query (nearest first).
        let teacherDistances = withoutGradients { squaredDistanceMatrix(t) }
        let rankings: [[Int]] = queryIndices.map { q in
            let d = (0..<b).map { teacherDistances.storage.base[q * b + $0] }
            return (0..<b).filter { $0 != q }.sorted { d[$0] != d[$1] ? d[$0] < d[$1] : $0 < $1 }
        }
        let studentDistances = squaredDistanceMatrix(s)

        switch mode {
        case .hard(let limit):
            let n = limit.map { min($0, b - 1) } ?? b - 1
            let pairs = zip(queryIndices, rankings).flatMap { q, ranking in ranking.prefix(n).map { (q, $0) } }
            let scores = scores(studentDistances, pairs).reshaped(to: [queryIndices.count, n])
            return -plackettLuceLogLikelihood(scores)
        case .soft(let k):
            let pairs = zip(queryIndices, rankings).flatMap { q, ranking in ranking.prefix(k).map { (q, $0) } }
            let studentLists = scores(studentDistances, pairs)
            let teacherLists = withoutGradients { scores(teacherDistances, pairs) }
            let count = permutations.count / k
            let rows = (0..<queryIndices.count).flatMap { q in permutations.map { q * k + $0 } }
            let shape = [queryIndices.count, count]
            let logPS = plackettLuceLogLikelihood(studentLists.indexSelect(axis: 0, rows).reshaped(to: [-1, k])).reshaped(to: shape)
            let logPT = withoutGradients { plackettLuceLogLikelihood(teacherLists.indexSelect(axis: 0, rows).reshaped(to: [-1, k])).reshaped(to: shape) }
            let pT = withoutGradients { logPT.exp() }
            switch objective {
            case .kullbackLeibler: return (pT * (logPT - logPS)).sum(alongAxis: 1)
            case .crossEntropy: return -(pT * logPS).sum(alongAxis: 1)
            }
        }
    }

    /// `‖x_i − x_j‖²` for all pairs of rows, `[B, B]`, from `‖x_i‖² + ‖x_j‖² − 2x_iᵀx_j` (floored at 0).
    private func squaredDistanceMatrix(_ x: Tensor) -> Tensor {
        let norms = x.square().sum(alongAxis: 1, keepingDimensions: true)
        return (norms + norms.transposed() - 2 * x.matmul(x, transposeOther: true)).relu()
    }

    /// Scores `−α·‖x_q − x_i‖^β` for a list of `(q, i)` pairs (`q ≠ i`), `[pairs]`.
    private func scores(_ distances: Tensor, _ pairs: [(Int, Int)]) -> Tensor {
        let b = distances.shape[0]
        let squared = distances.reshaped(to: [b * b]).indexSelect(axis: 0, pairs.map { $0.0 * b + $0.1 }).clamped(min: 1e-12)
        return squared.pow(beta / 2) * -alpha
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        queryLosses(student: context.student.embedding, teacher: context.requireTeacher(for: name).embedding).mean()
    }

    public func check(_ context: TransferContext) throws {
        try checkEmbeddings(student: context.student.embedding.shape, teacher: context.checkedTeacher(for: name).embedding.shape)
    }

    /// `[B, D_s]` student and `[B, D_t]` teacher embeddings, `B` at least ``minimumBatch``.
    private func checkEmbeddings(student: [Int], teacher: [Int]) throws {
        try checkPairedEmbeddings(student: student, teacher: teacher, loss: name)
        guard student[0] >= minimumBatch else {
            throw LossInputError(loss: name, message: "needs a batch of at least \(minimumBatch) samples (\(batchRule)), got \(student[0])")
        }
    }
}

import Foundation
