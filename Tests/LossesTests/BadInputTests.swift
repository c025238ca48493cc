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
