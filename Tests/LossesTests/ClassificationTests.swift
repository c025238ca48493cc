import Testing
import Tensor
@testable import Losses

@Suite("Classification losses")
struct ClassificationTests {
    @Test func crossEntropyMatchesHandComputedValue() {
        let logits = Tensor([[2, 1, 0], [0, 0, 3]])
        let loss = softmaxCrossEntropy(logits: logits, labels: [0, 1])
        // −log softmax: row 0 → log(e²+e+1) − 2, row 1 → log(2 + e³) − 0.
        let e = Foundation.exp(1.0)
        let expected = ((Foundation.log(e * e + e + 1) - 2) + Foundation.log(2 + e * e * e)) / 2
        expectClose(loss.item, Float(expected), "CE")
        let perSample = softmaxCrossEntropy(logits: logits, labels: [0, 1], reduction: .none)
        #expect(perSample.shape == [2])
        expectClose(softmaxCrossEntropy(logits: logits, labels: [0, 1], reduction: .sum).item, perSample.scalars.reduce(0, +), "sum")
    }

    @Test func labelSmoothingMixesUniformTarget() {
        let logits = Tensor([[2, 1, 0]])
        let logP = logits.logSoftmax(alongAxis: 1).scalars
        let eps: Float = 0.1
        let expected = -(1 - eps) * logP[0] - eps / 3 * logP.reduce(0, +)
        expectClose(softmaxCrossEntropy(logits: logits, labels: [0], labelSmoothing: eps).item, expected, "smoothed CE")
    }

    @Test func negativeLogLikelihoodOfLogSoftmaxIsCrossEntropy() {
        let logits = randomTensor([4, 5], seed: 1)
        let labels = [0, 4, 2, 2]
        expectClose(negativeLogLikelihood(logProbabilities: logits.logSoftmax(alongAxis: 1), labels: labels).item,
                    softmaxCrossEntropy(logits: logits, labels: labels).item, "NLL")
    }

    @Test func klDivergenceIsZeroForEqualDistributions() {
        let p = Tensor([[0.2, 0.3, 0.5]])
        expectClose(klDivergence(logProbabilities: p.log(), targetProbabilities: p).item, 0, atol: 1e-6, "KL(p‖p)")
    }

    /// Terms with q_j = 0 contribute 0 even where log p_j = −∞ (0·(−∞) was NaN), with no
    /// gradient to those log-probabilities; the rest of the gradient is −q/B.
    @Test func klDivergenceMasksZeroTargets() {
        let quarter: Float = Foundation.log(0.25), threeQuarters: Float = Foundation.log(0.75)
        let logP = Tensor([[-Float.infinity, 0], [quarter, threeQuarters]]).trackingGradients()
        let q = Tensor([[0, 1], [0.5, 0.5]])
        let kl = klDivergence(logProbabilities: logP, targetProbabilities: q)
        // Row 0: 1·(log 1 − 0) = 0; row 1: 0.5·log(0.5/0.25) + 0.5·log(0.5/0.75) = 0.5·log(4/3).
        expectClose(kl.item, Float(0.5 * Foundation.log(4.0 / 3.0)) / 2, "batch mean")
        expectClose(kl.backward()[logP]!.scalars, [0, -0.5, -0.25, -0.25], "∂/∂log p")
        // Gradient check with a zero target on finite log-probabilities (the mask keeps them exact).
        let target = Tensor([[0, 0.3, 0.7], [0.2, 0, 0.8]])
        expectGradientsMatch([randomTensor([2, 3], seed: 5)]) {
            klDivergence(logProbabilities: $0[0].logSoftmax(alongAxis: 1), targetProbabilities: target)
        }
    }

    /// methods.md §2 KD sub-test: T = 4, z_S = (2,1,0), z_T = (3,0,−1).
    @Test func hintonDistillationVector() {
        let zS = Tensor([[2, 1, 0]]).trackingGradients(), zT = Tensor([[3, 0, -1]])
        let loss = distillationLoss(studentLogits: zS, teacherLogits: zT, temperature: 4)
        expectClose(loss.item, 0.498266, "16·KL")
        expectClose(loss.item / 16, 0.0311416, "KL")
        let grads = loss.backward()
        expectClose(grads[zS]!.scalars, [-0.496707, 0.279237, 0.217470], "∂/∂z_S")
    }

    @Test func distillationEdgeCases() {
        // Identical logits: no loss, no gradient.
        let z = randomTensor([2, 5], seed: 4).trackingGradients()
        let same = distillationLoss(studentLogits: z, teacherLogits: z.detached(), temperature: 4)
        expectClose(same.item, 0, atol: 1e-6, "KD(z, z)")
        expectClose(same.backward()[z]!.scalars, [Float](repeating: 0, count: 10), atol: 1e-6, "∂KD(z, z)")
        // Extreme logits stay finite (softmax shifted by its maximum).
        let extreme = Tensor([[1e4, -1e4, 0]]).trackingGradients()
        let loss = distillationLoss(studentLogits: extreme, teacherLogits: Tensor([[-1e4, 1e4, 0]]), temperature: 1)
        #expect(loss.item.isFinite && loss.item > 1e4, "\(loss.item)")
        let gradient = loss.backward()[extreme]!.scalars
        #expect(gradient.allSatisfy { $0.isFinite }, "\(gradient)")
    }

    @Test func gradientsMatchFiniteDifferences() {
        let logits = randomTensor([3, 4], seed: 2)
        expectGradientsMatch([logits]) { softmaxCrossEntropy(logits: $0[0], labels: [1, 3, 0], labelSmoothing: 0.2) }
        let teacher = randomTensor([3, 4], seed: 3)
        expectGradientsMatch([logits]) { distillationLoss(studentLogits: $0[0], teacherLogits: teacher, temperature: 2) }
    }
}

import Foundation
