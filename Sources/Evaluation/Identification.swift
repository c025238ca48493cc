import Tensor

/// Identification rate at one rank.
public struct RankAccuracy: Codable, Equatable, Sendable {
    public let rank: Int
    /// Fraction of probes whose identity is among the first `rank` gallery entries.
    public let rate: Double
}

/// What closed-set identification measured.
public struct IdentificationResult: Codable, Equatable, Sendable {
    public let probeCount: Int
    public let galleryCount: Int
    /// The rates at the requested ranks (1, 5, 10 by default).
    public let rankAccuracies: [RankAccuracy]
    /// The cumulative match characteristic: `cmc[k − 1]` = rate at rank `k`, for
    /// `k = 1 … min(maxRank, galleryCount)`.
    public let cmc: [Double]
    /// The rank of every probe (1 = its identity's best gallery entry scored highest).
    public let probeRanks: [Int]

    /// The identification rate at `rank` (1 beyond the gallery size).
    public func rate(atRank rank: Int) -> Double {
        precondition(rank >= 1, "IdentificationResult.rate: rank must be at least 1, got \(rank)")
        if let known = rankAccuracies.first(where: { $0.rank == rank }) { return known.rate }
        return Double(probeRanks.filter { $0 <= rank }.count) / Double(probeCount)
    }
}

extension IdentificationResult {
    /// Decodes a result written by a report, refusing counts that disagree (the rates would be
    /// computed from them).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        probeCount = try container.decode(Int.self, forKey: .probeCount)
        galleryCount = try container.decode(Int.self, forKey: .galleryCount)
        rankAccuracies = try container.decode([RankAccuracy].self, forKey: .rankAccuracies)
        cmc = try container.decode([Double].self, forKey: .cmc)
        probeRanks = try container.decode([Int].self, forKey: .probeRanks)
        guard probeCount >= 1, galleryCount >= 1, probeRanks.count == probeCount, probeRanks.allSatisfy({ $0 >= 1 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .probeRanks, in: container,
                debugDescription: "not an identification result: \(probeCount) probes, \(galleryCount) gallery entries, \(probeRanks.count) probe ranks (need at least one probe and entry, one rank ≥ 1 per probe)")
        }
    }
}

/// Closed-set identification (SCface, TinyFace style): every probe is compared with every
/// gallery entry by cosine similarity and the gallery is sorted by decreasing similarity.
///
/// The rank of a probe is the position of the first gallery entry of its own identity:
/// `rank = 1 + #{g : label_g ≠ label_p, s(p, g) ≥ s*}` with `s*` the best similarity to a gallery
/// entry of the probe's identity. Ties are counted against the probe (pessimistic), so a model
/// that outputs a constant cannot score above chance. Distractor identities (gallery labels no
/// probe has) simply join the ranking, as in TinyFace's distractor gallery. The CMC curve is the
/// fraction of probes with rank ≤ k (Moon & Phillips, "Computational and performance aspects of
/// PCA-based face-recognition algorithms", Perception 2001; Grgic et al., SCface, 2011).
public enum Identification {
    /// Identification of unit-length probe embeddings `[P, D]` against gallery embeddings `[G, D]`.
    ///
    /// Throws for empty or mismatched input, invalid ranks, or a probe whose identity has no
    /// gallery entry (closed set).
    public static func evaluate(gallery: Tensor, galleryLabels: [Int], probes: Tensor, probeLabels: [Int],
                                ranks: [Int] = [1, 5, 10], maxRank: Int = 50) throws -> IdentificationResult {
        guard gallery.rank == 2, probes.rank == 2 else {
            throw EvaluationError(.mismatchedInput, "identification: embeddings must be [N, D], got gallery \(gallery.shape), probes \(probes.shape)")
        }
        let (g, p, d) = (gallery.shape[0], probes.shape[0], gallery.shape[1])
        guard g > 0, p > 0 else { throw EvaluationError(.emptyInput, "identification: \(g) gallery entries and \(p) probes") }
        guard probes.shape[1] == d else {
            throw EvaluationError(.mismatchedInput,
                                  "identification: gallery embeddings have dimension \(d), probes \(probes.shape[1]); cross-model comparison needs one embedding space")
        }
        guard galleryLabels.count == g, probeLabels.count == p else {
            throw EvaluationError(.mismatchedInput,
                                  "identification: \(g) gallery embeddings with \(galleryLabels.count) labels, \(p) probes with \(probeLabels.count) labels")
        }
        guard ranks.allSatisfy({ $0 >= 1 }), maxRank >= 1 else {
            throw EvaluationError(.invalidArgument, "identification: ranks \(ranks) and maxRank \(maxRank) must be at least 1")
        }
        let known = Set(galleryLabels)
        if let missing = probeLabels.firstIndex(where: { !known.contains($0) }) {
            throw EvaluationError(.probeNotInGallery,
                                  "identification is closed-set: probe \(missing) has identity \(probeLabels[missing]), which has no gallery entry")
        }
        guard gallery.scalars.allSatisfy(\.isFinite), probes.scalars.allSatisfy(\.isFinite) else {
            throw EvaluationError(.nonFiniteValue, "identification: an embedding contains NaN or infinity")
        }
        let galleryRows = EmbeddingRows(gallery), probeRows = EmbeddingRows(probes)
        // Similarities in blocks of probes so a large distractor gallery fits in memory.
        let block = max(1, min(p, (1 << 22) / g))
        var probeRanks: [Int] = []
        probeRanks.reserveCapacity(p)
        var start = 0
        while start < p {
            let rows = start..<min(start + block, p)
            let similarities = withoutGradients {
                probeRows.tensor.sliced(axis: 0, rows).matmul(galleryRows.tensor, transposeOther: true)
            }
            let s = similarities.storage.base
            for (row, probe) in rows.enumerated() {
                let scores = s + row &* g
                let label = probeLabels[probe]
                var best = -Float.infinity
                for j in 0..<g where galleryLabels[j] == label { best = max(best, scores[j]) }
                var rank = 1
                for j in 0..<g where galleryLabels[j] != label && scores[j] >= best { rank += 1 }
                probeRanks.append(rank)
            }
            start = rows.upperBound
        }
        var histogram = [Int](repeating: 0, count: g + 2)
        for rank in probeRanks { histogram[rank] += 1 }
        var cmc: [Double] = [], cumulative = 0
        for k in 1...min(maxRank, g) {
            cumulative += histogram[k]
            cmc.append(Double(cumulative) / Double(p))
        }
        let accuracies = ranks.map { k in
            RankAccuracy(rank: k, rate: Double(probeRanks.filter { $0 <= k }.count) / Double(p))
        }
        return IdentificationResult(probeCount: p, galleryCount: g, rankAccuracies: accuracies, cmc: cmc, probeRanks: probeRanks)
    }

    /// Identification on images: the gallery embedded by `galleryModel` (default `probeModel`),
    /// the probes by `probeModel`.
    public static func evaluate(gallery: ImageSource, galleryLabels: [Int], probes: ImageSource, probeLabels: [Int],
                                probeModel: EmbeddingModel, galleryModel: EmbeddingModel? = nil,
                                extractor: EmbeddingExtractor = EmbeddingExtractor(),
                                ranks: [Int] = [1, 5, 10], maxRank: Int = 50) throws -> IdentificationResult {
        guard gallery.count == galleryLabels.count, probes.count == probeLabels.count else {
            throw EvaluationError(.mismatchedInput,
                                  "identification: \(gallery.count) gallery images with \(galleryLabels.count) labels, \(probes.count) probes with \(probeLabels.count) labels")
        }
        let g = if let galleryModel { try extractor.embeddings(of: gallery, model: galleryModel) }
                else { try extractor.embeddings(of: gallery, model: probeModel) }
        let p = try extractor.embeddings(of: probes, model: probeModel)
        return try evaluate(gallery: g, galleryLabels: galleryLabels, probes: p, probeLabels: probeLabels, ranks: ranks, maxRank: maxRank)
    }
}

/// Rows scaled to unit length so a matrix product gives cosine similarities.
private struct EmbeddingRows {
    let tensor: Tensor

    init(_ embeddings: Tensor) {
        var values = embeddings.scalars
        EmbeddingExtractor.normalizeRows(&values, dimension: embeddings.shape[1])
        tensor = Tensor(shape: embeddings.shape, scalars: values)
    }
}
