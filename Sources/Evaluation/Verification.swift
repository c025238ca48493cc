import Tensor

/// Settings of the verification protocol (recorded in every report).
public struct VerificationSettings: Codable, Equatable, Sendable {
    /// The insightface k-fold accuracy procedure.
    public var kFold: KFoldVerification
    /// FARs at which TAR is reported; those finer than `1 / #impostors` are reported as not resolvable.
    public var falseAcceptRates: [Double]
    /// How the TAR operating point is read from the ROC.
    public var tarRule: TARThresholdRule

    public init(kFold: KFoldVerification = KFoldVerification(), falseAcceptRates: [Double] = [1e-1, 1e-2, 1e-3, 1e-4],
                tarRule: TARThresholdRule = .atMost) {
        self.kFold = kFold
        self.falseAcceptRates = falseAcceptRates
        self.tarRule = tarRule
    }
}

/// TAR at one requested FAR, or why it could not be read.
public struct TARAtFAR: Codable, Equatable, Sendable {
    /// The requested FAR.
    public let targetFalseAcceptRate: Double
    /// The operating point, `nil` when the target is finer than the impostor count resolves.
    public let point: OperatingPoint?
    /// Why ``point`` is missing.
    public let note: String?
}

/// Everything the verification protocol measures on one set of pairs.
public struct VerificationResult: Codable, Equatable, Sendable {
    public let pairCount: Int
    public let genuineCount: Int
    public let impostorCount: Int
    /// insightface k-fold accuracy on squared distances of the normalised embeddings.
    public let kFold: KFoldResult
    /// ROC of the cosine similarities, simplified (scikit-learn `drop_intermediate=True`).
    public let roc: ROCCurve
    /// Area under the ROC.
    public let areaUnderCurve: Double
    /// Equal error rate on cosine similarities.
    public let equalErrorRate: EqualErrorRate
    /// TAR at each of ``VerificationSettings/falseAcceptRates``.
    public let trueAcceptRates: [TARAtFAR]
}

/// The LFW / insightface verification protocol.
///
/// Pair `i` is `(first_i, second_i)` with `issame[i]`; in cross-resolution use the first image is
/// the gallery (HR) side and the second the probe side (Lai & Lam's "HR-to-LR" degrades the
/// second image). Embeddings are unit vectors from ``EmbeddingExtractor``.
public enum Verification {
    /// The protocol on embeddings `[N, D]` of the two sides of `N` pairs.
    ///
    /// The k-fold accuracy uses `‖â − b̂‖²` of the L2-normalised embeddings (as insightface, which
    /// normalises before its distances, so embeddings of any length are scored on the threshold
    /// grid's `[0, 4]` scale); the ROC, AUC, EER and TAR@FAR use the cosine similarity.
    public static func evaluate(first: Tensor, second: Tensor, issame: [Bool],
                                settings: VerificationSettings = VerificationSettings()) throws -> VerificationResult {
        let cosines = try PairScores.cosineSimilarities(first, second)
        let distances = try PairScores.normalizedSquaredDistances(first, second)
        return try evaluate(similarities: cosines, distances: distances, issame: issame, settings: settings)
    }

    /// The protocol on precomputed cosine similarities, for scores from any other system; the
    /// k-fold distances are `2 − 2·s`, exact for unit embeddings. Scores must be cosines, in
    /// `[−1, 1]` (to rounding): others would fall outside the k-fold threshold grid's `[0, 4]`.
    public static func evaluate(similarities: [Double], issame: [Bool],
                                settings: VerificationSettings = VerificationSettings()) throws -> VerificationResult {
        if let i = similarities.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError(.nonFiniteValue, "verification: similarity \(i) is \(similarities[i])")
        }
        if let i = similarities.firstIndex(where: { abs($0) > 1 + 1e-6 }) {
            throw EvaluationError(.invalidArgument,
                                  "verification: similarity \(i) is \(similarities[i]); cosine similarities lie in [-1, 1] (the k-fold distances are 2 - 2·s)")
        }
        return try evaluate(similarities: similarities, distances: similarities.map { 2 - 2 * $0 }, issame: issame, settings: settings)
    }

    /// The protocol on images: the first side embedded by `galleryModel`, the second by
    /// `probeModel` (the same model unless given — the cross-model mode embeds the HR gallery with
    /// the teacher and the LR probes with the student).
    public static func evaluate(first: ImageSource, second: ImageSource, issame: [Bool],
                                probeModel: EmbeddingModel, galleryModel: EmbeddingModel? = nil,
                                extractor: EmbeddingExtractor = EmbeddingExtractor(),
                                settings: VerificationSettings = VerificationSettings()) throws -> VerificationResult {
        guard first.count == issame.count, second.count == issame.count else {
            throw EvaluationError(.mismatchedInput,
                                  "verification: \(first.count) first images, \(second.count) second images, \(issame.count) labels")
        }
        let a = if let galleryModel { try extractor.embeddings(of: first, model: galleryModel) }
                else { try extractor.embeddings(of: first, model: probeModel) }
        let b = try extractor.embeddings(of: second, model: probeModel)
        guard a.shape[1] == b.shape[1] else {
            throw EvaluationError(.mismatchedInput,
                                  "verification: gallery model embeds in \(a.shape[1]) dimensions, probe model in \(b.shape[1]); cross-model comparison needs one embedding space")
        }
        return try evaluate(first: a, second: b, issame: issame, settings: settings)
    }

    private static func evaluate(similarities: [Double], distances: [Double], issame: [Bool],
                                 settings: VerificationSettings) throws -> VerificationResult {
        let kFold = try settings.kFold.evaluate(distances: distances, issame: issame)
        let roc = try ROCCurve(scores: similarities, isGenuine: issame)
        let tars = try settings.falseAcceptRates.map { target -> TARAtFAR in
            do {
                return TARAtFAR(targetFalseAcceptRate: target, point: try roc.trueAcceptRate(atFalseAcceptRate: target, rule: settings.tarRule), note: nil)
            } catch let error as EvaluationError where error.kind == .farNotResolvable {
                return TARAtFAR(targetFalseAcceptRate: target, point: nil, note: error.message)
            }
        }
        return VerificationResult(pairCount: issame.count, genuineCount: roc.genuineCount, impostorCount: roc.impostorCount,
                                  kFold: kFold, roc: roc.simplified(), areaUnderCurve: roc.areaUnderCurve,
                                  equalErrorRate: roc.equalErrorRate, trueAcceptRates: tars)
    }
}
