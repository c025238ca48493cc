import Foundation
import Testing
import Tensor
import Layers
@testable import Losses

/// methods.md §3: five unit vectors in R², query 0.
@Suite("DarkRank")
struct DarkRankTests {
    static var student: Tensor { Tensor([[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8], [-1, 0]]) }
    static var teacher: Tensor { Tensor([[1, 0], [0.6, 0.8], [0.8, -0.6], [0, 1], [-1, 0]]) }

    func query0(_ loss: DarkRank, _ s: Tensor = student) -> Tensor {
        loss.queryLosses(student: s, teacher: Self.teacher).sliced(axis: 0, 0..<1).reshaped(to: [])
    }

    @Test(arguments: [
        (Float(1), Float(1), Float(2.53209), [Float(0.818580), 1.86693, 3.06413], [Float(0.133938), 0.162845, 0.191595]),
        (1, 2, 2.31023, [1.14180, 2.05709, 2.63233], [0.468261, 0.590513, 0.682129]),
        (3, 3, 7.72786, [6.18322, 6.21297, 6.21405], [5.68312, 5.69859, 5.69967]),
    ])
    func reproducesTable(alpha: Float, beta: Float, hard: Float, softCE: [Float], softKL: [Float]) {
        expectClose(query0(DarkRank(mode: .hard(listLength: nil), alpha: alpha, beta: beta)).item, hard, "hard α=\(alpha) β=\(beta)")
        for (i, k) in [2, 3, 4].enumerated() {
            let ce = DarkRank(mode: .soft(listLength: k), alpha: alpha, beta: beta, objective: .crossEntropy)
            let kl = DarkRank(mode: .soft(listLength: k), alpha: alpha, beta: beta, objective: .kullbackLeibler)
            expectClose(query0(ce).item, softCE[i], "soft CE k=\(k) α=\(alpha) β=\(beta)")
            expectClose(query0(kl).item, softKL[i], "soft KL k=\(k) α=\(alpha) β=\(beta)")
        }
    }

    @Test func truncatedHardAndReferenceParametrisation() {
        expectClose(query0(DarkRank(mode: .hard(listLength: 3), alpha: 3, beta: 3)).item, 7.72678, "hard top-3")
        expectClose(query0(DarkRank(referenceScale: 3.5, power: 2, mode: .soft(listLength: 4))).item, 46.9089, rtol: 2e-4, "code soft")
        expectClose(query0(DarkRank(referenceScale: 3.5, power: 2, mode: .hard(listLength: nil))).item, 47.0400, rtol: 2e-4, "code hard")
    }

    @Test func hardGradientMatchesAutodiffVector() {
        let s = Self.student.trackingGradients()
        let loss = query0(DarkRank(mode: .hard(listLength: nil), alpha: 1, beta: 2, normalizesEmbeddings: false), s)
        expectClose(loss.backward()[s]!.scalars,
                    [0.646457, -1.185177, 0.277672, -0.833016, -1.686989, 1.686989, -0.662407, 0.331204, 1.425267, 0],
                    atol: 1e-4, "∂/∂student")
    }

    @Test func invariantToBatchPermutation() {
        let s = randomTensor([6, 3], seed: 40), t = randomTensor([6, 4], seed: 41)
        let order = [3, 0, 5, 1, 4, 2]
        for loss in [DarkRank(mode: .soft(listLength: 3)), DarkRank(mode: .hard(listLength: nil), alpha: 1, beta: 2)] {
            let a = loss(TransferContext(student: Features(embedding: s), teacher: Features(embedding: t)))
            let b = loss(TransferContext(student: Features(embedding: s.indexSelect(axis: 0, order)),
                                         teacher: Features(embedding: t.indexSelect(axis: 0, order))))
            expectClose(a.item, b.item, "\(loss.name)")
        }
    }

    @Test func softKLIsZeroWhenStudentEqualsTeacher() {
        let x = randomTensor([5, 3], seed: 42)
        let ctx = TransferContext(student: Features(embedding: x), teacher: Features(embedding: x))
        expectClose(DarkRank(mode: .soft(listLength: 3))(ctx).item, 0, atol: 1e-5, "KL")
    }

    @Test func gradientCheckOnRandomInputs() {
        let s = randomTensor([5, 3], seed: 43), t = randomTensor([5, 3], seed: 44)
        for loss in [DarkRank(mode: .soft(listLength: 3), alpha: 2, beta: 2), DarkRank(mode: .hard(listLength: nil), alpha: 1, beta: 3)] {
            expectGradientsMatch([s]) { loss(TransferContext(student: Features(embedding: $0[0]), teacher: Features(embedding: t))) }
        }
        expectGradientsMatch([randomTensor([3, 4], seed: 45)]) { plackettLuceLogLikelihood($0[0]) }
    }

    @Test func firstHalfQueriesAreTheReferenceCodes() {
        let s = randomTensor([6, 3], seed: 46), t = randomTensor([6, 3], seed: 47)
        let context = TransferContext(student: Features(embedding: s), teacher: Features(embedding: t))
        for mode: DarkRank.Mode in [.soft(listLength: 3), .hard(listLength: nil)] {
            let all = DarkRank(mode: mode).queryLosses(student: s, teacher: t).scalars
            let half = DarkRank(mode: mode, queries: .firstHalf)
            let first = half.queryLosses(student: s, teacher: t)
            #expect(first.shape == [3], "\(mode): queries 0, 1, 2 of 6")
            expectClose(first.scalars, Array(all.prefix(3)), "\(mode): the same losses as those queries'")
            expectClose(half(context).item, all.prefix(3).reduce(0, +) / 3, "\(mode): their mean")
        }
        // An odd batch of 5 has 2 queries, the smallest batch (3) has 1.
        let hard = DarkRank(mode: .hard(listLength: nil), queries: .firstHalf)
        #expect(hard.queryLosses(student: s.sliced(axis: 0, 0..<5), teacher: t.sliced(axis: 0, 0..<5)).shape == [2])
        #expect(hard.queryLosses(student: s.sliced(axis: 0, 0..<3), teacher: t.sliced(axis: 0, 0..<3)).shape == [1])
    }

    @Test func teacherTiesRankByBatchIndex() {
        // Query 0's candidates 1 and 2 are equally far from it in the teacher: 1 ranks first.
        let t = Tensor([[1, 0], [0, 1], [0, -1], [-1, 0]]), s = randomTensor([4, 2], seed: 48)
        let loss = DarkRank(mode: .hard(listLength: nil), alpha: 1, beta: 2, normalizesEmbeddings: false)
        let d = (1..<4).map { (s.sliced(axis: 0, 0..<1) - s.sliced(axis: 0, $0..<($0 + 1))).square().sum().item }
        let expected = -plackettLuceLogLikelihood(Tensor(shape: [1, 3], scalars: d.map { -$0 })).item
        expectClose(loss.queryLosses(student: s, teacher: t).scalars[0], expected, "ranking 1, 2, 3")
    }

    /// Lists have at least 2 items, so the smallest batch is 3 for `.hard` (truncated or not)
    /// and `k + 1` for `.soft(k)`; there a loss is not identically 0.
    @Test func minimumBatchGivesListsOfTwo() {
        #expect(DarkRank(mode: .hard(listLength: nil)).minimumBatch == 3)
        #expect(DarkRank(mode: .hard(listLength: 2)).minimumBatch == 3)
        #expect(DarkRank(mode: .hard(listLength: 5)).minimumBatch == 3)
        #expect(DarkRank(mode: .soft(listLength: 2)).minimumBatch == 3)
        #expect(DarkRank(mode: .soft(listLength: 4)).minimumBatch == 5)
        let s = randomTensor([3, 2], seed: 49), t = randomTensor([3, 2], seed: 50)
        for mode: DarkRank.Mode in [.hard(listLength: nil), .hard(listLength: 5), .soft(listLength: 2)] {
            let losses = DarkRank(mode: mode, alpha: 1, beta: 2, objective: .crossEntropy).queryLosses(student: s, teacher: t).scalars
            #expect(losses.count == 3 && losses.allSatisfy { $0.isFinite && $0 > 1e-3 }, "\(mode): \(losses)")
        }
    }

    /// α·2^β bounds the scores of unit-norm embeddings: β = 200 overflowed to −∞ (a NaN loss) and
    /// is refused; β = 98 (3·2^98 ≈ 9.5e29, under the 10³⁰ bound) gives a finite loss.
    @Test func scoresStayFinite() {
        #expect(DarkRank.largestScoreMagnitude(alpha: 3, beta: 3) == 24)
        #expect(!DarkRank.largestScoreMagnitude(alpha: 3, beta: 200).isFinite)
        #expect(DarkRank.largestScoreMagnitude(alpha: 3, beta: 100) > DarkRank.maximumScoreMagnitude)
        let s = randomTensor([6, 4], seed: 51), t = randomTensor([6, 4], seed: 52)
        for mode: DarkRank.Mode in [.hard(listLength: nil), .soft(listLength: 3)] {
            let loss = DarkRank(mode: mode, beta: 98)(TransferContext(student: Features(embedding: s), teacher: Features(embedding: t)))
            #expect(loss.item.isFinite, "\(mode): \(loss.item)")
        }
    }

    /// An item scored −∞ has probability 0: last in the list it changes nothing (it is alone
    /// there), earlier it makes the ranking impossible (−∞); never NaN, gradients finite.
    @Test func plackettLuceWithMinusInfinity() {
        let inf = Float.infinity
        let finite = Tensor([[1, 0.5]]).trackingGradients(), last = Tensor([[1, 0.5, -inf]]).trackingGradients()
        let a = plackettLuceLogLikelihood(finite), b = plackettLuceLogLikelihood(last)
        expectClose(b.item, a.item, "−∞ last: the list without it")
        expectClose(b.backward()[last]!.scalars, a.backward()[finite]!.scalars + [0], "−∞ last: gradient")

        let middle = Tensor([[1, -inf, 0.5]]).trackingGradients()
        let c = plackettLuceLogLikelihood(middle)
        #expect(c.item == -inf)
        // ∂/∂s_j = 1 − Σ_{i≤j} P_i(j) with P_0(2) = e^0.5/(e + e^0.5), P_1(2) = P_2(2) = 1.
        let p = Foundation.exp(Float(0.5)) / (Foundation.exp(Float(1)) + Foundation.exp(Float(0.5)))
        expectClose(c.backward()[middle]!.scalars, [p, 1, -1 - p], "−∞ in the middle: gradient")

        let all = Tensor([[-inf, -inf], [-inf, 0]]).trackingGradients()
        let d = plackettLuceLogLikelihood(all)
        #expect(d.scalars == [-inf, -inf])
        // Row 1: ∂/∂s_1 = −P_0(1) = −1. Row 0 (all −∞) is a convention; it must not be NaN.
        let gradient = d.sum().backward()[all]!.scalars
        #expect(gradient.allSatisfy(\.isFinite) && Array(gradient[2...]) == [1, -1], "\(gradient)")
        // n = 1: probability 1 whatever the score.
        #expect(plackettLuceLogLikelihood(Tensor([[-inf]])).item == 0)

        // Gradient check around a −∞ last item (its own gradient is 0, numerically too).
        expectGradientsMatch([Tensor([[0.3, -1.2, 0.7, -inf], [1.1, 0.4, -0.6, -inf]])]) { plackettLuceLogLikelihood($0[0]) }
    }

    @Test func permutationsAreComplete() {
        let p = allPermutations(4)
        #expect(p.count == 24 * 4)
        let rows: [[Int]] = (0..<24).map { (i: Int) -> [Int] in Array(p[(i * 4)..<(i * 4 + 4)]) }
        #expect(Set(rows).count == 24)
        #expect(rows.first == [0, 1, 2, 3] && rows.last == [3, 2, 1, 0])
    }
}
