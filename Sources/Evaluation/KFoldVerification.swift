/// insightface's 10-fold verification accuracy on squared Euclidean distances — a
/// re-implementation of `calculate_roc` / `calculate_accuracy` in
/// `recognition/arcface_torch/eval/verification.py` (after Sandberg's facenet `lfw.py`),
/// following the LFW "unrestricted" protocol of Huang et al. 2007 (10 folds of 600 pairs).
///
/// - Pairs are split into ``folds`` contiguous folds without shuffling, scikit-learn
///   `KFold(n_splits, shuffle=False)`: the first `n mod k` folds hold `⌊n/k⌋ + 1` pairs, the
///   rest `⌊n/k⌋`. With one fold the training and test sets are both all pairs.
/// - A pair is predicted "same" when `distance < threshold` (strict).
/// - For each fold, the threshold with the highest accuracy on the other folds (the first
///   one in grid order when several tie, `np.argmax`) is applied to the held-out fold.
/// - Accuracy is reported as the mean ± population standard deviation (`np.std`) of the fold
///   accuracies; TPR/FPR at every grid threshold are averaged over the held-out folds.
/// - The grid is `np.arange(0, 4, 0.01)`: 400 thresholds `i·0.01` covering the range of
///   `‖a − b‖² = 2 − 2cos` for unit vectors.
public struct KFoldVerification: Codable, Equatable, Sendable {
    /// insightface's threshold grid `np.arange(0, 4, 0.01)`.
    public static let insightfaceThresholds: [Double] = (0..<400).map { Double($0) * 0.01 }

    /// Number of folds (10 for LFW, CFP-FP, AgeDB-30).
    public var folds: Int
    /// Candidate distance thresholds.
    public var thresholds: [Double]

    public init(folds: Int = 10, thresholds: [Double] = KFoldVerification.insightfaceThresholds) {
        self.folds = folds
        self.thresholds = thresholds
    }

    /// The held-out index range of each fold (scikit-learn `KFold` without shuffling).
    ///
    /// Throws unless `1 ≤ folds ≤ count` (scikit-learn raises for more splits than samples).
    public static func foldRanges(count: Int, folds: Int) throws -> [Range<Int>] {
        guard folds >= 1 else { throw EvaluationError(.invalidArgument, "k-fold: the fold count must be at least 1, got \(folds)") }
        guard count >= folds else {
            throw EvaluationError(.invalidArgument, "k-fold: cannot split \(count) pairs into \(folds) folds (need at least one pair per fold)")
        }
        var ranges: [Range<Int>] = []
        var start = 0
        for fold in 0..<folds {
            let size = count / folds + (fold < count % folds ? 1 : 0)
            ranges.append(start..<(start + size))
            start += size
        }
        return ranges
    }

    /// The k-fold accuracy of pair distances (lower = same identity).
    ///
    /// Unlike the ROC this is defined when one class is absent (insightface scores it: TPR or FPR
    /// are then reported as 0); it throws only for empty, mismatched or non-finite input and for a
    /// fold count outside `1...distances.count`.
    public func evaluate(distances: [Double], issame: [Bool]) throws -> KFoldResult {
        guard !distances.isEmpty else { throw EvaluationError(.emptyInput, "k-fold: no pairs") }
        guard distances.count == issame.count else {
            throw EvaluationError(.mismatchedInput, "k-fold: \(distances.count) distances but \(issame.count) labels")
        }
        guard distances.allSatisfy(\.isFinite) else { throw EvaluationError(.nonFiniteValue, "k-fold: a distance is NaN or infinite") }
        guard !thresholds.isEmpty, thresholds.allSatisfy(\.isFinite) else {
            throw EvaluationError(.invalidArgument, "k-fold: the threshold grid must be non-empty and finite")
        }
        let ranges = try Self.foldRanges(count: distances.count, folds: folds)
        var accuracies: [Double] = [], best: [Double] = []
        var tprSum = [Double](repeating: 0, count: thresholds.count), fprSum = tprSum
        for test in ranges {
            let train: [Int] = folds == 1 ? Array(distances.indices)
                : Array(0..<test.lowerBound) + Array(test.upperBound..<distances.count)
            let trainCounts = ConfusionCounter(distances: train.map { distances[$0] }, issame: train.map { issame[$0] })
            // np.argmax: the first threshold with the most correct training decisions.
            var bestIndex = 0, bestCorrect = -1
            for (i, threshold) in thresholds.enumerated() {
                let correct = trainCounts.correct(below: threshold)
                if correct > bestCorrect { (bestIndex, bestCorrect) = (i, correct) }
            }
            let testCounts = ConfusionCounter(distances: Array(distances[test]), issame: Array(issame[test]))
            for (i, threshold) in thresholds.enumerated() {
                let (tpr, fpr) = testCounts.rates(below: threshold)
                tprSum[i] += tpr
                fprSum[i] += fpr
            }
            best.append(thresholds[bestIndex])
            accuracies.append(Double(testCounts.correct(below: thresholds[bestIndex])) / Double(test.count))
        }
        let k = Double(ranges.count)
        let mean = accuracies.reduce(0, +) / k
        let variance = accuracies.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / k
        return KFoldResult(foldAccuracies: accuracies, bestThresholds: best,
                           meanAccuracy: mean, standardDeviation: variance.squareRoot(),
                           meanThreshold: best.reduce(0, +) / k,
                           thresholds: thresholds,
                           meanTruePositiveRates: tprSum.map { $0 / k },
                           meanFalsePositiveRates: fprSum.map { $0 / k })
    }
}

/// What ``KFoldVerification`` measured.
public struct KFoldResult: Codable, Equatable, Sendable {
    /// Accuracy on each held-out fold, in fold order.
    public let foldAccuracies: [Double]
    /// The distance threshold chosen on the training folds of each fold.
    public let bestThresholds: [Double]
    /// Mean of ``foldAccuracies`` (insightface's "Accuracy-Flip" when embeddings were flip-fused).
    public let meanAccuracy: Double
    /// Population standard deviation of ``foldAccuracies`` (`np.std`).
    public let standardDeviation: Double
    /// Mean of ``bestThresholds``: a single distance threshold to deploy
    /// (cosine threshold `1 − meanThreshold / 2` for unit embeddings).
    public let meanThreshold: Double
    /// The grid the thresholds were chosen from.
    public let thresholds: [Double]
    /// TPR at each grid threshold, averaged over the held-out folds (insightface's `tpr`).
    public let meanTruePositiveRates: [Double]
    /// FPR at each grid threshold, averaged over the held-out folds (insightface's `fpr`).
    public let meanFalsePositiveRates: [Double]
}

/// Counts of a distance-threshold classifier (`distance < t` ⇒ same), by binary search on the
/// sorted genuine and impostor distances.
private struct ConfusionCounter {
    let genuine: [Double], impostor: [Double]

    init(distances: [Double], issame: [Bool]) {
        genuine = zip(distances, issame).filter { $0.1 }.map(\.0).sorted()
        impostor = zip(distances, issame).filter { !$0.1 }.map(\.0).sorted()
    }

    /// Number of sorted values `< t`.
    private static func countBelow(_ values: [Double], _ t: Double) -> Int {
        var (low, high) = (0, values.count)
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < t { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// True positives plus true negatives.
    func correct(below t: Double) -> Int {
        Self.countBelow(genuine, t) + impostor.count - Self.countBelow(impostor, t)
    }

    /// `(TP / (TP + FN), FP / (FP + TN))`, each 0 when its class is empty (as insightface).
    func rates(below t: Double) -> (Double, Double) {
        let tp = Self.countBelow(genuine, t), fp = Self.countBelow(impostor, t)
        return (genuine.isEmpty ? 0 : Double(tp) / Double(genuine.count),
                impostor.isEmpty ? 0 : Double(fp) / Double(impostor.count))
    }
}
