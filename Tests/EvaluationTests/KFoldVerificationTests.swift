import Testing
import TestSupport
@testable import Evaluation
import Tensor

/// The insightface 10-fold procedure on hand-computed fixtures and degenerate cases.
struct KFoldVerificationTests {
    let grid: [Double] = [0, 0.5, 1.0, 1.5, 2.0]
    let distances: [Double] = [0.2, 1.2, 0.7, 1.8]
    let issame = [true, false, true, false]

    @Test func foldsAreContiguousWithTheRemainderInFront() throws {
        #expect(try KFoldVerification.foldRanges(count: 23, folds: 10) == [0..<3, 3..<6, 6..<9, 9..<11, 11..<13, 13..<15, 15..<17, 17..<19, 19..<21, 21..<23])
        #expect(try KFoldVerification.foldRanges(count: 6000, folds: 10).allSatisfy { $0.count == 600 })
    }

    @Test func insightfaceGridIsArangeZeroToFourByHundredths() {
        let grid = KFoldVerification.insightfaceThresholds
        #expect(grid.count == 400)
        #expect(grid.first == 0)
        #expect(grid[7] == 7 * 0.01)
        #expect(grid.last == 399 * 0.01)
    }

    @Test func twoFoldsByHand() throws {
        // Fold 0 trains on (0.7 same, 1.8 different): thresholds 1.0 and 1.5 are both perfect, the
        // first wins; on (0.2, 1.2) it is right twice. Fold 1 trains on (0.2, 1.2): 0.5 is the first
        // perfect threshold; on (0.7 same, 1.8 different) it rejects the genuine pair.
        let result = try KFoldVerification(folds: 2, thresholds: grid).evaluate(distances: distances, issame: issame)
        #expect(result.foldAccuracies == [1.0, 0.5])
        #expect(result.bestThresholds == [1.0, 0.5])
        #expect(result.meanAccuracy == 0.75)
        #expect(result.standardDeviation == 0.25)
        #expect(result.meanThreshold == 0.75)
        // Held-out TPR at 0.5: fold 0 accepts 0.2 (1), fold 1 rejects 0.7 (0).
        #expect(result.meanTruePositiveRates == [0, 0.5, 1, 1, 1])
        #expect(result.meanFalsePositiveRates == [0, 0, 0, 0.5, 1])
    }

    @Test func oneFoldTrainsAndTestsOnEveryPair() throws {
        let result = try KFoldVerification(folds: 1, thresholds: grid).evaluate(distances: distances, issame: issame)
        #expect(result.foldAccuracies == [1.0])
        #expect(result.bestThresholds == [1.0])
        #expect(result.standardDeviation == 0)
    }

    @Test func thresholdIsStrict() throws {
        // A distance equal to the threshold is predicted "different", as `np.less`.
        let result = try KFoldVerification(folds: 1, thresholds: [0.5]).evaluate(distances: [0.5, 0.5], issame: [true, false])
        #expect(result.foldAccuracies == [0.5])
        #expect(result.meanTruePositiveRates == [0])
    }

    @Test func allGenuineIsScoredLikeInsightface() throws {
        // No impostors: FPR is reported as 0 and the first threshold above every training distance
        // wins — 0.5 for the training pairs (0.1, 0.3), which rejects the held-out (0.6, 0.7).
        let result = try KFoldVerification(folds: 2, thresholds: grid).evaluate(distances: [0.1, 0.3, 0.6, 0.7], issame: [true, true, true, true])
        #expect(result.foldAccuracies == [1, 0])
        #expect(result.bestThresholds == [1.0, 0.5])
        #expect(result.meanFalsePositiveRates == [0, 0, 0, 0, 0])
    }

    @Test func allImpostorPicksTheZeroThreshold() throws {
        let result = try KFoldVerification(folds: 2, thresholds: grid).evaluate(distances: [0.1, 0.3, 0.6, 0.7], issame: [false, false, false, false])
        #expect(result.foldAccuracies == [1, 1])
        #expect(result.bestThresholds == [0, 0])
    }

    @Test func invalidFoldCountsAreRefused() {
        let procedure = KFoldVerification(folds: 10, thresholds: grid)
        #expect(throws: EvaluationError.self) { try procedure.evaluate(distances: distances, issame: issame) }
        #expect(throws: EvaluationError.self) { try KFoldVerification(folds: 0).evaluate(distances: distances, issame: issame) }
        #expect(throws: EvaluationError.self) { try procedure.evaluate(distances: [], issame: []) }
        #expect(throws: EvaluationError.self) { try procedure.evaluate(distances: [0.1], issame: [true, false]) }
        #expect(throws: EvaluationError.self) { try procedure.evaluate(distances: [.infinity], issame: [true]) }
    }
}

/// The Swift procedure against a numpy/scikit-learn transcription of insightface's
/// `calculate_roc` + `calculate_accuracy`, on float32 unit embeddings of 605 pairs (uneven folds).
@Test(.enabled(if: Python.has("numpy", "sklearn"), "python3 with numpy and scikit-learn is not installed"),
      arguments: [10, 3, 1])
func kFoldReproducesInsightfaceCalculateRoc(folds: Int) throws {
    let fixture = try PythonFixture.run("""
    import numpy as np
    from sklearn.model_selection import KFold
    folds = \(folds)
    rng = np.random.default_rng(7)
    n, d = 605, 5
    same = rng.random(n) < 0.5
    a = rng.normal(size=(n, d))
    b = np.where(same[:, None], a + rng.normal(scale=0.8, size=(n, d)), rng.normal(size=(n, d)))
    unit = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    e1, e2 = unit(a), unit(b)

    def accuracy(t, dist, same):
        pred = np.less(dist, t)
        tp = np.sum(pred & same); fp = np.sum(pred & ~same)
        tn = np.sum(~pred & ~same); fn = np.sum(~pred & same)
        tpr = 0 if tp + fn == 0 else float(tp) / float(tp + fn)
        fpr = 0 if fp + tn == 0 else float(fp) / float(fp + tn)
        return tpr, fpr, float(tp + tn) / dist.size

    thresholds = np.arange(0, 4, 0.01)
    dist = np.sum(np.square(np.subtract(e1.astype(np.float64), e2.astype(np.float64))), 1)
    idx = np.arange(n)
    splits = KFold(n_splits=folds, shuffle=False).split(idx) if folds > 1 else [(idx, idx)]
    tprs = np.zeros((folds, len(thresholds))); fprs = np.zeros((folds, len(thresholds)))
    acc = np.zeros(folds); best = np.zeros(folds)
    for k, (train, test) in enumerate(splits):
        train_acc = np.array([accuracy(t, dist[train], same[train])[2] for t in thresholds])
        i = np.argmax(train_acc)
        for j, t in enumerate(thresholds):
            tprs[k, j], fprs[k, j], _ = accuracy(t, dist[test], same[test])
        acc[k] = accuracy(thresholds[i], dist[test], same[test])[2]
        best[k] = thresholds[i]
    emit({"e1": e1.ravel().tolist(), "e2": e2.ravel().tolist(), "same": same.tolist(),
        "acc": acc.tolist(), "best": best.tolist(), "mean": float(np.mean(acc)), "std": float(np.std(acc)),
        "tpr": np.mean(tprs, 0).tolist(), "fpr": np.mean(fprs, 0).tolist(), "thresholds": thresholds.tolist()})
    """)
    let n = 605
    let e1 = Tensor(shape: [n, 5], scalars: fixture.doubles("e1").map(Float.init))
    let e2 = Tensor(shape: [n, 5], scalars: fixture.doubles("e2").map(Float.init))
    let distances = try PairScores.squaredDistances(e1, e2)
    let result = try KFoldVerification(folds: folds).evaluate(distances: distances, issame: fixture.bools("same"))
    #expect(KFoldVerification.insightfaceThresholds == fixture.doubles("thresholds"))
    #expect(result.foldAccuracies == fixture.doubles("acc"))
    #expect(result.bestThresholds == fixture.doubles("best"))
    #expect(abs(result.meanAccuracy - fixture.double("mean")) < 1e-12)
    #expect(abs(result.standardDeviation - fixture.double("std")) < 1e-12)
    #expect(zip(result.meanTruePositiveRates, fixture.doubles("tpr")).allSatisfy { abs($0 - $1) < 1e-12 })
    #expect(zip(result.meanFalsePositiveRates, fixture.doubles("fpr")).allSatisfy { abs($0 - $1) < 1e-12 })
}
