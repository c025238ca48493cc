import Testing
@testable import Evaluation

/// ROC and AUC against scikit-learn on random scores with many ties, generated at test time.
@Test(.enabled(if: PythonFixture.available("numpy", "sklearn"), "python3 with numpy and scikit-learn is not installed"))
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
