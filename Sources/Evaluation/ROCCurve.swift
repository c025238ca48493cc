/// One operating point of a ROC curve: accept a pair when its score is `≥ threshold`.
public struct ROCPoint: Codable, Equatable, Sendable {
    /// The score threshold (`+∞` for the first point, where nothing is accepted).
    public let threshold: Double
    /// FAR = FPR = accepted impostors / impostors.
    public let falseAcceptRate: Double
    /// TAR = TPR = accepted genuine pairs / genuine pairs.
    public let trueAcceptRate: Double
}

/// The equal error rate: where FAR equals FRR = 1 − TAR.
public struct EqualErrorRate: Codable, Equatable, Sendable {
    /// The interpolated rate at which FAR = FRR.
    public let rate: Double
    /// The threshold of the first ROC point with FAR ≥ FRR (accept when score ≥ threshold).
    public let threshold: Double
}

/// How ``ROCCurve/trueAcceptRate(atFalseAcceptRate:rule:)`` picks the operating point.
public enum TARThresholdRule: String, Codable, Sendable {
    /// The highest TAR among points with FAR ≤ target: the FAR is guaranteed not to exceed the
    /// target (conservative; the CrossRes default).
    case atMost = "at-most"
    /// The point of scikit-learn's simplified ROC whose FAR is nearest the target, the largest
    /// TAR among equally near ones — insightface `recognition/arcface_torch/eval_ijbc.py`
    /// (its IJB-B/C TPR@FPR tables). The achieved FAR may exceed the target.
    case nearest
}

/// TAR at a target FAR, read from the ROC without interpolation.
public struct OperatingPoint: Codable, Equatable, Sendable {
    /// The requested FAR.
    public let targetFalseAcceptRate: Double
    /// The threshold chosen (accept when score ≥ threshold).
    public let threshold: Double
    /// The FAR actually achieved at that threshold (≤ the target under ``TARThresholdRule/atMost``).
    public let falseAcceptRate: Double
    /// The TAR at that threshold.
    public let trueAcceptRate: Double
}

/// The receiver operating characteristic of similarity scores (higher = more likely the same
/// identity), exactly as scikit-learn's `roc_curve(y, score, drop_intermediate=False)`.
///
/// The thresholds are the distinct scores in decreasing order; a pair is accepted when its
/// score is `≥` the threshold, so tied scores move together (one diagonal step). A first point
/// `(FAR 0, TAR 0)` with threshold `+∞` is prepended. `FAR = FP / #impostors`,
/// `TAR = TP / #genuine`. References: Fawcett, "An introduction to ROC analysis", Pattern
/// Recognition Letters 2006; scikit-learn `sklearn.metrics.roc_curve`.
public struct ROCCurve: Codable, Equatable, Sendable {
    /// The points, FAR and TAR non-decreasing, from `(0, 0)` to `(1, 1)`.
    public let points: [ROCPoint]
    /// Number of same-identity pairs.
    public let genuineCount: Int
    /// Number of different-identity pairs.
    public let impostorCount: Int

    /// The full ROC of `scores`, where `isGenuine[i]` says pair `i` is a same-identity pair.
    ///
    /// Throws for empty or mismatched input, non-finite scores, or when either class is absent
    /// (all genuine: FAR undefined; all impostor: TAR undefined).
    public init(scores: [Double], isGenuine: [Bool]) throws {
        guard !scores.isEmpty else { throw EvaluationError(.emptyInput, "ROC: no scores") }
        guard scores.count == isGenuine.count else {
            throw EvaluationError(.mismatchedInput, "ROC: \(scores.count) scores but \(isGenuine.count) labels")
        }
        guard scores.allSatisfy(\.isFinite) else { throw EvaluationError(.nonFiniteValue, "ROC: a score is NaN or infinite") }
        let genuine = isGenuine.filter { $0 }.count, impostors = scores.count - genuine
        guard impostors > 0 else {
            throw EvaluationError(.noImpostorPairs, "ROC: all \(scores.count) pairs are genuine; FAR is undefined without impostor pairs")
        }
        guard genuine > 0 else {
            throw EvaluationError(.noGenuinePairs, "ROC: all \(scores.count) pairs are impostors; TAR is undefined without genuine pairs")
        }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [ROCPoint(threshold: .infinity, falseAcceptRate: 0, trueAcceptRate: 0)]
        var tp = 0, fp = 0
        for (position, index) in order.enumerated() {
            if isGenuine[index] { tp += 1 } else { fp += 1 }
            let isLastOfTie = position == order.count - 1 || scores[order[position + 1]] != scores[index]
            if isLastOfTie {
                points.append(ROCPoint(threshold: scores[index],
                                       falseAcceptRate: Double(fp) / Double(impostors),
                                       trueAcceptRate: Double(tp) / Double(genuine)))
            }
        }
        self.init(points: points, genuineCount: genuine, impostorCount: impostors)
    }

    private init(points: [ROCPoint], genuineCount: Int, impostorCount: Int) {
        self.points = points
        self.genuineCount = genuineCount
        self.impostorCount = impostorCount
    }

    /// Decodes a curve written by a report, refusing one that no scores could have produced
    /// (the getters below rely on it starting at (0, 0), ending at (1, 1) and never falling).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let points = try container.decode([ROCPoint].self, forKey: .points)
        let genuine = try container.decode(Int.self, forKey: .genuineCount)
        let impostors = try container.decode(Int.self, forKey: .impostorCount)
        func corrupt(_ reason: String) -> DecodingError {
            .dataCorruptedError(forKey: .points, in: container, debugDescription: "not a ROC curve: \(reason)")
        }
        guard genuine >= 1, impostors >= 1 else { throw corrupt("\(genuine) genuine and \(impostors) impostor pairs (at least one of each)") }
        guard let first = points.first, let last = points.last, points.count >= 2 else { throw corrupt("\(points.count) points (at least 2)") }
        guard first.falseAcceptRate == 0, first.trueAcceptRate == 0 else { throw corrupt("it starts at (\(first.falseAcceptRate), \(first.trueAcceptRate)), not (0, 0)") }
        guard last.falseAcceptRate == 1, last.trueAcceptRate == 1 else { throw corrupt("it ends at (\(last.falseAcceptRate), \(last.trueAcceptRate)), not (1, 1)") }
        for i in 1..<points.count where !(points[i - 1].falseAcceptRate <= points[i].falseAcceptRate
                                          && points[i - 1].trueAcceptRate <= points[i].trueAcceptRate) {
            throw corrupt("point \(i) falls below point \(i - 1) (rates must not decrease along the curve)")
        }
        self.init(points: points, genuineCount: genuine, impostorCount: impostors)
    }

    /// The curve without interior points that lie on a straight segment between their
    /// neighbours — scikit-learn's `drop_intermediate=True` (same AUC, fewer points to plot or
    /// store). TAR@FAR should be read from the full curve.
    public func simplified() -> ROCCurve {
        // scikit-learn drops on the curve before the (0, 0) point is prepended.
        let body = Array(points.dropFirst())
        guard body.count > 2 else { return self }
        var kept = [points[0], body[0]]
        for i in 1..<(body.count - 1) {
            let (a, b, c) = (body[i - 1], body[i], body[i + 1])
            let fpBend = count(c.falseAcceptRate, impostorCount) - 2 * count(b.falseAcceptRate, impostorCount) + count(a.falseAcceptRate, impostorCount)
            let tpBend = count(c.trueAcceptRate, genuineCount) - 2 * count(b.trueAcceptRate, genuineCount) + count(a.trueAcceptRate, genuineCount)
            if fpBend != 0 || tpBend != 0 { kept.append(b) }
        }
        kept.append(body[body.count - 1])
        return ROCCurve(points: kept, genuineCount: genuineCount, impostorCount: impostorCount)
    }

    /// Area under the curve by the trapezoidal rule (scikit-learn `roc_auc_score`): the
    /// probability that a random genuine pair outscores a random impostor pair, ties counting ½.
    public var areaUnderCurve: Double {
        var area = 0.0
        for i in 1..<points.count {
            let (a, b) = (points[i - 1], points[i])
            area += (b.falseAcceptRate - a.falseAcceptRate) * (a.trueAcceptRate + b.trueAcceptRate) / 2
        }
        return area
    }

    /// The equal error rate.
    ///
    /// Walking the curve, FAR rises and FRR = 1 − TAR falls; the first point `i` with
    /// `FAR_i ≥ FRR_i` brackets the crossing with point `i − 1`. On the segment between them
    /// both rates are linear, so the crossing is at `t = (FRR_{i−1} − FAR_{i−1}) /
    /// ((FAR_i − FAR_{i−1}) − (FRR_i − FRR_{i−1}))` and `EER = FAR_{i−1} + t·(FAR_i − FAR_{i−1})`.
    /// The reported threshold is that of point `i`.
    public var equalErrorRate: EqualErrorRate {
        // The curve ends at (1, 1) where FAR = 1 ≥ FRR = 0, so the search always succeeds.
        let i = points.firstIndex { $0.falseAcceptRate >= 1 - $0.trueAcceptRate }!
        let b = points[i]
        guard i > 0 else { return EqualErrorRate(rate: b.falseAcceptRate, threshold: b.threshold) }
        let a = points[i - 1]
        let (farA, farB) = (a.falseAcceptRate, b.falseAcceptRate)
        let (frrA, frrB) = (1 - a.trueAcceptRate, 1 - b.trueAcceptRate)
        let denominator = (farB - farA) - (frrB - frrA)
        let t = denominator > 0 ? (frrA - farA) / denominator : 1
        return EqualErrorRate(rate: farA + t * (farB - farA), threshold: b.threshold)
    }

    /// TAR at a target FAR, without interpolation. With the default ``TARThresholdRule/atMost``
    /// it is the point with the highest TAR among those with `FAR ≤ target` — the lowest
    /// threshold whose FAR does not exceed the target.
    ///
    /// Throws for a target outside `(0, 1]` or below `1 / #impostors`: no threshold can
    /// distinguish such a FAR from 0, so the number would be meaningless (LFW's 3,000 impostor
    /// pairs resolve FAR = 1e-3 but not 1e-4).
    public func trueAcceptRate(atFalseAcceptRate target: Double, rule: TARThresholdRule = .atMost) throws -> OperatingPoint {
        guard target > 0, target <= 1 else {
            throw EvaluationError(.invalidArgument, "TAR@FAR: target FAR \(target) is not in (0, 1]")
        }
        guard target * Double(impostorCount) >= 1 - 1e-9 else {
            throw EvaluationError(.farNotResolvable,
                                  "TAR@FAR: target FAR \(target) is below 1/\(impostorCount) = \(1 / Double(impostorCount)), the finest FAR that \(impostorCount) impostor pairs can resolve; use at least \(Int((1 / target).rounded(.up))) impostor pairs")
        }
        let best: ROCPoint
        switch rule {
        case .atMost:
            // FAR is non-decreasing along the curve and the first point has FAR 0 ≤ target.
            best = points.last { $0.falseAcceptRate <= target }!
        case .nearest:
            let candidates = simplified().points
            let nearest = candidates.indices.reduce(0) { chosen, i in
                abs(candidates[i].falseAcceptRate - target) <= abs(candidates[chosen].falseAcceptRate - target) ? i : chosen
            }
            best = candidates[nearest]
        }
        return OperatingPoint(targetFalseAcceptRate: target, threshold: best.threshold,
                              falseAcceptRate: best.falseAcceptRate, trueAcceptRate: best.trueAcceptRate)
    }

    private func count(_ rate: Double, _ total: Int) -> Int { Int((rate * Double(total)).rounded()) }
}
