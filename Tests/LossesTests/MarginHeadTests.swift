import Testing
import Tensor
@testable import Losses

/// methods.md §7: `cos = [0.5, 0.3, −0.1]`, target 0, s = 64.
@Suite("Margin heads")
struct MarginHeadTests {
    let cosines: [Float] = [0.5, 0.3, -0.1]

    func loss(_ margin: any TargetMargin) -> (value: Float, targetLogit: Float, targetGradient: Float) {
        let c = Tensor(shape: [1, 3], scalars: cosines).trackingGradients()
        let value = marginSoftmaxCrossEntropy(cosines: c, labels: [0], scale: 64) { margin($0) }
        let gradient = value.backward()[c]!.scalars[0]
        return (value.item, 64 * margin(0.5).value, gradient)
    }

    @Test func tableOfTargetLogitsAndLosses() {
        let cases: [(String, any TargetMargin, Float, Float)] = [
            ("normalised softmax", NoMargin(), 32.0, 2.76077e-06),
            ("ArcFace 0.5", ArcFaceMargin(0.5), 1.51018, 17.6898),
            ("CosFace 0.35", CosFaceMargin(0.35), 9.6, 9.60007),
            ("combined (1, 0.3, 0.2)", CombinedMargin(m1: 1, m2: 0.3, m3: 0.2), 1.39138, 17.8086),
            // arcface_torch drops m2 when m3 > 0: CosFace 0.2.
            ("arcface_torch's (1, 0.3, 0.2), which is CosFace 0.2", CosFaceMargin(0.2), 19.2, 0.693147),
        ]
        for (name, margin, logit, ce) in cases {
            let result = loss(margin)
            expectClose(result.targetLogit, logit, "\(name) target logit")
            // methods.md gives 6 significant digits; 2.76077e-6 (a confident row) is checked relatively too.
            expectClose(result.value, ce, rtol: 1e-5, atol: 0, "\(name) CE")
        }
    }

    @Test func arcFaceGradientExactAndStraightThrough() {
        expectClose(loss(ArcFaceMargin(0.5)).targetGradient, -73.8803, "exact")
        expectClose(loss(ArcFaceMargin(0.5, fallback: .none, gradient: .straightThrough)).targetGradient, -64.0, "straight-through")
        expectClose(loss(ArcFaceMargin.arcfaceTorch).value, 17.6898, rtol: 2e-3, "arcface_torch forward")
    }

    @Test func thresholdAndEasyMargin() {
        let standard = ArcFaceMargin(0.5), easy = ArcFaceMargin(0.5, fallback: .easyMargin), raw = ArcFaceMargin(0.5, fallback: .none)
        expectClose(standard.threshold, -0.877583, "th")
        expectClose([standard(0).value, easy(0).value], [-0.479426, 0.0], "cos θ = 0")
        expectClose([standard(-0.5).value, easy(-0.5).value], [-0.853986, -0.5], "cos θ = −0.5")
        expectClose([standard(-0.9).value, easy(-0.9).value, raw(-0.9).value], [-1.13971, -0.9, -0.998801], "cos θ = −0.9")
        #expect(standard(-0.9).derivative == 1, "the fallback c − m·sin m has slope 1")
    }

    @Test func marginDerivativesMatchFiniteDifferences() {
        let margins: [any TargetMargin] = [ArcFaceMargin(0.5), ArcFaceMargin(0.5, fallback: .easyMargin), ArcFaceMargin(0.5, fallback: .none),
                                           CombinedMargin(m1: 1.2, m2: 0.3, m3: 0.2), CosFaceMargin(), NoMargin()]
        for margin in margins {
            for c: Float in [-0.95, -0.3, 0.2, 0.7] {
                let h: Float = 1e-3
                let numeric = (margin(c + h).value - margin(c - h).value) / (2 * h)
                expectClose(margin(c).derivative, numeric, rtol: 1e-2, atol: 1e-3, "\(type(of: margin)) at \(c)")
            }
        }
    }

    @Test func arcFaceWithZeroMarginIsNormalisedSoftmax() {
        var g = RandomGenerator(seed: 4)
        let arc = MarginHead.arcFace(classes: 7, embeddingDimension: 5, margin: 0, using: &g)
        let plain = MarginHead(classes: 7, embeddingDimension: 5, margin: NoMargin(), using: &g)
        plain.weight.value = arc.weight.value
        let x = randomTensor([4, 5], seed: 5)
        let labels = [0, 6, 3, 3]
        expectClose(arc.loss(x, labels: labels).item, plain.loss(x, labels: labels).item, "m = 0")
        let xa = x.trackingGradients(), xb = x.trackingGradients()
        expectClose(arc.loss(xa, labels: labels).backward()[xa]!.scalars, plain.loss(xb, labels: labels).backward()[xb]!.scalars, "gradient")
    }

    @Test func fusedLossEqualsCrossEntropyOfMarginLogits() {
        var g = RandomGenerator(seed: 6)
        let head = MarginHead.combined(classes: 6, embeddingDimension: 4, scale: 16, using: &g)
        let x = randomTensor([5, 4], seed: 7)
        let labels = [1, 0, 5, 2, 2]
        expectClose(head.loss(x, labels: labels).item,
                    softmaxCrossEntropy(logits: head.logits(x, labels: labels), labels: labels).item, rtol: 1e-4, "fused vs composed")
    }

    /// cos θ = ±1 (an embedding on a class centre or opposite it): sin θ is floored, so the exact
    /// ArcFace derivative stays finite, and so do the loss and its gradient.
    @Test func marginsAtTheEndsOfTheCosineRange() {
        for margin: any TargetMargin in [ArcFaceMargin(0.5), CombinedMargin(m1: 1, m2: 0.3, m3: 0.2), CosFaceMargin(0.35)] {
            for end: Float in [1, -1] {
                let c = Tensor(shape: [1, 3], scalars: [end, 0.3, -0.1]).trackingGradients()
                let value = marginSoftmaxCrossEntropy(cosines: c, labels: [0], scale: 64) { margin($0) }
                let gradient = value.backward()[c]!.scalars
                #expect(value.item.isFinite && gradient.allSatisfy { $0.isFinite }, "\(margin) at cos θ = \(end): \(value.item), \(gradient)")
            }
        }
    }

    @Test func headsPassGradientCheck() {
        var g = RandomGenerator(seed: 8)
        let heads: [MarginHead] = [
            .arcFace(classes: 5, embeddingDimension: 4, scale: 8, using: &g),
            .cosFace(classes: 5, embeddingDimension: 4, scale: 8, using: &g),
            .combined(classes: 5, embeddingDimension: 4, scale: 8, using: &g),
            .normalizedSoftmax(classes: 5, embeddingDimension: 4, scale: 8, using: &g),
        ]
        let x = randomTensor([3, 4], seed: 9)
        let labels = [4, 0, 2]
        for head in heads {
            // The head's loss as a function of (embedding, weight) tensors, checked numerically…
            func loss(_ x: Tensor, _ w: Tensor) -> Tensor {
                let c = x.l2Normalized(axis: 1).matmul(w.l2Normalized(axis: 1), transposeOther: true)
                let margin = head.margin
                return marginSoftmaxCrossEntropy(cosines: c, labels: labels, scale: head.scale) { margin($0) }
            }
            // Unit-scale weights: finite differences on the N(0, 0.01) initial weights would be
            // dominated by the curvature of the normalisation.
            let w = randomTensor([5, 4], seed: 10)
            head.weight.value = w
            expectGradientsMatch([x, w]) { loss($0[0], $0[1]) }
            // …and the module's parameter gradient equals that function's.
            let wLeaf = w.trackingGradients()
            expectClose(head.loss(x, labels: labels).backward()[head.weight]!.scalars,
                        loss(x, wLeaf).backward()[wLeaf]!.scalars, "weight gradient")
            expectGradientsMatch([x]) { head.logits($0[0], labels: labels) }
            #expect(head.parameters().count == 1 && head.namedParameters()[0].name == "weight")
        }
    }
}
