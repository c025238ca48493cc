import Testing
import Tensor
import Layers
import Losses

/// Programming errors stop the process with a message naming the shapes (exit tests).
@Suite("Bad input")
struct BadInputTests {
    @Test func mismatchedBatchSizes() async throws {
        let result = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let l2 = FeatureL2Transfer()
            _ = l2.distances(student: Tensor.zeros([2, 3]), teacher: Tensor.ones([3, 3]))
        })
        #expect(String(decoding: result.standardErrorContent, as: UTF8.self).contains("student batch size 2 differs from teacher batch size 3"))

        let context = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = TransferContext(student: Features(embedding: Tensor.zeros([4, 2])), teacher: Features(embedding: Tensor.zeros([5, 2])))
        })
        #expect(String(decoding: context.standardErrorContent, as: UTF8.self).contains("teacher batch size 5 differs from student batch size 4"))

        let labels = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = softmaxCrossEntropy(logits: Tensor.zeros([3, 4]), labels: [0, 1])
        })
        #expect(String(decoding: labels.standardErrorContent, as: UTF8.self).contains("batch size 3 but 2 labels"))

        let nst = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NeuronSelectivityTransfer(map: "m").discrepancies(student: Tensor.zeros([2, 1, 2, 2]), teacher: Tensor.zeros([3, 1, 2, 2]))
        })
        #expect(String(decoding: nst.standardErrorContent, as: UTF8.self).contains("nst: student batch size 2 differs from teacher batch size 3"))
        let darkRank = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank().queryLosses(student: Tensor.zeros([6, 2]), teacher: Tensor.zeros([5, 2]))
        })
        #expect(String(decoding: darkRank.standardErrorContent, as: UTF8.self).contains("student batch size 6 differs from teacher batch size 5"))
    }

    @Test func wrongRanksAndDimensions() async throws {
        let nst = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NeuronSelectivityTransfer(map: "m").discrepancies(student: Tensor.zeros([2, 4]), teacher: Tensor.zeros([2, 1, 2, 2]))
        })
        #expect(String(decoding: nst.standardErrorContent, as: UTF8.self).contains("feature maps must be [B, C, H, W], got student [2, 4]"))

        let l2 = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = FeatureL2Transfer().distances(student: Tensor.zeros([2, 3]), teacher: Tensor.zeros([2, 5]))
        })
        #expect(String(decoding: l2.standardErrorContent, as: UTF8.self).contains("student dimension 3 differs from teacher dimension 5"))

        let mmd = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = maximumMeanDiscrepancy(Tensor.zeros([4]), Tensor.zeros([4]))
        })
        #expect(String(decoding: mmd.standardErrorContent, as: UTF8.self).contains("needs [n, D] and [m, D] (or [B, n, D] and [B, m, D]), got [4] and [4]"))
        let head = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = RandomGenerator(seed: 1)
            _ = MarginHead.arcFace(classes: 3, embeddingDimension: 4, using: &g).loss(Tensor.zeros([2, 5]), labels: [0, 1])
        })
        #expect(String(decoding: head.standardErrorContent, as: UTF8.self).contains("embedding must be [B, 4], got shape [2, 5]"))
        let map = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let features = Features(embedding: Tensor.zeros([1, 1]), maps: ["stage3": Tensor.zeros([1, 1, 1, 1])])
            _ = NeuronSelectivityTransfer(map: "stage4")(TransferContext(student: features, teacher: features))
        })
        #expect(String(decoding: map.standardErrorContent, as: UTF8.self).contains("no feature map 'stage4' (it has stage3)"))
    }

    /// `trapping`, public for losses of users' own, keeps the message in release builds and
    /// reports the caller's place.
    @Test func trappingKeepsTheMessageAndTheCallersPlace() async throws {
        let result = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let _: Int = trapping { throw LossInputError(loss: "mine", message: "needs what it lacks") }
        })
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("BadInputTests.swift:") && stderr.contains("mine: needs what it lacks"), "\(stderr)")
        let map = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Features(embedding: Tensor.zeros([1, 1])).requireMap("attention", owner: "student", loss: "mine")
        })
        #expect(String(decoding: map.standardErrorContent, as: UTF8.self).contains("BadInputTests.swift:"))
    }

    @Test func listLengthTooLarge() async throws {
        let tooLong = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .soft(listLength: 9))
        })
        #expect(String(decoding: tooLong.standardErrorContent, as: UTF8.self).contains("soft list length 9 needs 9! permutations per query; at most 8"))

        let batch = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .soft(listLength: 4)).queryLosses(student: Tensor.ones([4, 2]), teacher: Tensor.ones([4, 2]))
        })
        #expect(String(decoding: batch.standardErrorContent, as: UTF8.self).contains("needs a batch of at least 5 samples (more than the list length), got 4"))
    }

    /// A Plackett–Luce list of one item has probability 1 (a loss of 0): lists need 2 items.
    @Test func darkRankListsOfOne() async throws {
        let soft = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .soft(listLength: 1))
        })
        #expect(String(decoding: soft.standardErrorContent, as: UTF8.self).contains("soft list length must be at least 2 (a list of one item has probability 1), got 1"))
        let hard = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .hard(listLength: 1))
        })
        #expect(String(decoding: hard.standardErrorContent, as: UTF8.self).contains("hard list length must be at least 2 (a list of one item has probability 1), got 1"))
        let batch = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .hard(listLength: nil)).queryLosses(student: Tensor([[1, 0], [0, 1]]), teacher: Tensor([[1, 0], [0, 1]]))
        })
        #expect(String(decoding: batch.standardErrorContent, as: UTF8.self).contains("darkrank-hard: needs a batch of at least 3 samples (every query ranks at least 2 others), got 2"))
    }

    /// α·dist^β overflowing to ∞ made scores −∞ and the loss NaN; bad α, β or reference scale.
    @Test func darkRankScoresAndScales() async throws {
        let overflow = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(mode: .hard(listLength: nil), beta: 200)
        })
        #expect(String(decoding: overflow.standardErrorContent, as: UTF8.self).contains("α·2^β (the largest score magnitude, at distance 2) must be at most 1e+30, got α = 3.0, β = 200.0"))
        let infinite = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(alpha: .infinity)
        })
        #expect(String(decoding: infinite.standardErrorContent, as: UTF8.self).contains("α and β must be positive and finite, got α = inf, β = 3.0"))
        let scale = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DarkRank(referenceScale: -3.5, power: 2)
        })
        #expect(String(decoding: scale.standardErrorContent, as: UTF8.self).contains("scale and power must be positive and finite, got scale = -3.5, power = 2.0"))
    }

    /// A fixed Gaussian σ² ≤ 0, NaN or ∞ made the MMD NaN.
    @Test func fixedGaussianVariances() async throws {
        let zero = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = maximumMeanDiscrepancy(Tensor([[1, 0], [0, 1]]), Tensor([[1, 1]]), kernel: .gaussian(variance: 0))
        })
        #expect(String(decoding: zero.standardErrorContent, as: UTF8.self).contains("maximumMeanDiscrepancy: Gaussian kernel variance σ² must be finite and positive (or nil for the bandwidth rule), got 0.0"))
        let nan = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = MMDTransfer(kernel: .multiGaussian(variance: .nan))
        })
        #expect(String(decoding: nan.standardErrorContent, as: UTF8.self).contains("mmd: multi-Gaussian kernel variance σ² must be finite and positive (or nil for the bandwidth rule), got nan"))
        let infinite = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = NeuronSelectivityTransfer(map: "m", kernel: .gaussian(variance: .infinity))
        })
        #expect(String(decoding: infinite.standardErrorContent, as: UTF8.self).contains("nst: Gaussian kernel variance σ² must be finite and positive (or nil for the bandwidth rule), got inf"))
    }

    /// Infinite hyper-parameters gave NaN or infinite losses.
    @Test func infiniteHyperParameters() async throws {
        let scale = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = RandomGenerator(seed: 1)
            _ = MarginHead.cosFace(classes: 3, embeddingDimension: 4, scale: .infinity, using: &g)
        })
        #expect(String(decoding: scale.standardErrorContent, as: UTF8.self).contains("MarginHead: scale must be positive and finite, got inf"))
        let kl = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = distillationLoss(studentLogits: Tensor([[1, 2]]), teacherLogits: Tensor([[2, 1]]), temperature: .infinity)
        })
        #expect(String(decoding: kl.standardErrorContent, as: UTF8.self).contains("distillationLoss: temperature must be positive and finite (T² too), got inf"))
        let kd = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = KnowledgeDistillation(temperature: 1e20)
        })
        #expect(String(decoding: kd.standardErrorContent, as: UTF8.self).contains("KnowledgeDistillation: temperature must be positive and finite (T² too), got 1e+20"))
        let combined = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = CombinedMargin(m1: 1, m2: .infinity, m3: 0)
        })
        #expect(String(decoding: combined.standardErrorContent, as: UTF8.self).contains("CombinedMargin: need finite m1 > 0, m2 ≥ 0, m3 ≥ 0, got (1.0, inf, 0.0)"))
        let cosFace = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = CosFaceMargin(.infinity)
        })
        #expect(String(decoding: cosFace.standardErrorContent, as: UTF8.self).contains("CosFaceMargin: margin must be non-negative and finite, got inf"))
        let guided = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = RandomGenerator(seed: 1)
            _ = GuidedCNN(head: MarginHead.arcFace(classes: 3, embeddingDimension: 4, using: &g), crossFeatureWeight: .infinity)
        })
        #expect(String(decoding: guided.standardErrorContent, as: UTF8.self).contains("GuidedCNN: weights must be non-negative and finite, got guide 1.0, learner 1.0, cross identity 1.0, cross feature inf"))
    }

    /// Mixed critic widths were converted to two logits first, so the width check never fired.
    @Test func mixedCriticWidths() async throws {
        let adda = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = ADDA.criticObjective(sourceLogits: Tensor([[0, 2], [1, 0]]), targetLogits: Tensor([[0.5], [-1]]))
        })
        #expect(String(decoding: adda.standardErrorContent, as: UTF8.self).contains("ADDA.criticObjective: source logits [2, 2] and target logits [2, 1] differ in width"))
    }

    /// DANN's strength was only checked at the first step (or not at all for γ).
    @Test func dannStrengths() async throws {
        let gamma = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DANN(domainHead: IdentityCritic(), strength: .schedule(gamma: -10))
        })
        #expect(String(decoding: gamma.standardErrorContent, as: UTF8.self).contains("DANN: schedule γ must be finite and positive, got -10.0"))
        let infinite = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DANN(domainHead: IdentityCritic(), strength: .schedule(gamma: .infinity))
        })
        #expect(String(decoding: infinite.standardErrorContent, as: UTF8.self).contains("DANN: schedule γ must be finite and positive, got inf"))
        let lambda = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = DANN(domainHead: IdentityCritic(), strength: .constant(-1))
        })
        #expect(String(decoding: lambda.standardErrorContent, as: UTF8.self).contains("DANN: constant λ must be finite and non-negative, got -1.0"))
    }

    @Test func missingContextParts() async throws {
        let teacher = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = FeatureL2Transfer()(TransferContext(student: Features(embedding: Tensor.zeros([2, 2]))))
        })
        #expect(String(decoding: teacher.standardErrorContent, as: UTF8.self).contains("needs teacher features, but the context has none"))
        let logits = try #require(await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = KnowledgeDistillation()(TransferContext(student: Features(embedding: Tensor.zeros([2, 2])),
                                                        teacher: Features(embedding: Tensor.zeros([2, 2]))))
        })
        #expect(String(decoding: logits.standardErrorContent, as: UTF8.self).contains("kd: the student's Features have no logits"))
    }
}
