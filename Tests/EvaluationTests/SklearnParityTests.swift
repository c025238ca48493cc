import Testing
import TestSupport
@testable import Evaluation

/// ROC and AUC against scikit-learn on random scores with many ties, generated at test time.
@Test(.enabled(if: Python.has("numpy", "sklearn"), "python3 with numpy and scikit-learn is not installed"))
func rocMatchesScikitLearn() throws {
    let fixture = try PythonFixture.run("""
    import numpy as np
    from sklearn.metrics import roc_curve, roc_auc_score
    rng = np.random.default_rng(42)
    n = 300
    y = rng.random(n) < 0.4
    # Rounded to two decimals: plenty of ties inside and across the two classes.
    s = np.round(np.where(y, rng.normal(0.5, 0.2, n), rng.normal(0.2, 0.2, n)), 2)
    full = roc_curve(y, s, drop_intermediate=False)
    thin = roc_curve(y, s)
    emit({"y": y.tolist(), "s": s.tolist(),
        "fpr": full[0].tolist(), "tpr": full[1].tolist(), "thr": full[2][1:].tolist(),
        "fprThin": thin[0].tolist(), "tprThin": thin[1].tolist(), "auc": float(roc_auc_score(y, s))})
    """)
    let roc = try ROCCurve(scores: fixture.doubles("s"), isGenuine: fixture.bools("y"))
    func close(_ a: [Double], _ b: [Double]) -> Bool { a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 } }
    #expect(close(roc.points.map(\.falseAcceptRate), fixture.doubles("fpr")))
    #expect(close(roc.points.map(\.trueAcceptRate), fixture.doubles("tpr")))
    #expect(roc.points[0].threshold == .infinity)
    #expect(Array(roc.points.dropFirst().map(\.threshold)) == fixture.doubles("thr"))
    let simple = roc.simplified()
    #expect(close(simple.points.map(\.falseAcceptRate), fixture.doubles("fprThin")))
    #expect(close(simple.points.map(\.trueAcceptRate), fixture.doubles("tprThin")))
    #expect(abs(roc.areaUnderCurve - fixture.double("auc")) <= 1e-12)
}

/// TAR@FAR under both rules against a numpy transcription on scikit-learn's ROC: the largest TPR
/// with FPR ≤ target, and insightface `eval_ijbc.py`'s nearest-FPR point (ties → largest TPR).
@Test(.enabled(if: Python.has("numpy", "sklearn"), "python3 with numpy and scikit-learn is not installed"))
func trueAcceptRatesMatchScikitLearnCurves() throws {
    let fixture = try PythonFixture.run("""
    import numpy as np
    from sklearn.metrics import roc_curve
    rng = np.random.default_rng(5)
    n = 2000
    y = rng.random(n) < 0.3
    s = np.round(np.where(y, rng.normal(0.6, 0.2, n), rng.normal(0.1, 0.2, n)), 3)
    targets = [1e-1, 1e-2, 1e-3]
    full_fpr, full_tpr, _ = roc_curve(y, s, drop_intermediate=False)
    at_most = [float(full_tpr[full_fpr <= t].max()) for t in targets]
    fpr, tpr, _ = roc_curve(y, s)
    fpr, tpr = np.flipud(fpr), np.flipud(tpr)
    nearest = [float(tpr[min(zip(abs(fpr - t), range(len(fpr))))[1]]) for t in targets]
    emit({"y": y.tolist(), "s": s.tolist(), "targets": targets, "atMost": at_most, "nearest": nearest})
    """)
    let roc = try ROCCurve(scores: fixture.doubles("s"), isGenuine: fixture.bools("y"))
    let targets = fixture.doubles("targets")
    #expect(try targets.map { try roc.trueAcceptRate(atFalseAcceptRate: $0).trueAcceptRate } == fixture.doubles("atMost"))
    #expect(try targets.map { try roc.trueAcceptRate(atFalseAcceptRate: $0, rule: .nearest).trueAcceptRate } == fixture.doubles("nearest"))
}
