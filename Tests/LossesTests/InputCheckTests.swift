import Testing
import Tensor
import Layers
import Losses

/// `TransferLoss.check` and `MarginHead.check` throw, naming the loss, on the inputs the losses
/// stop the program on, and accept the inputs they take.
@Suite("Input checks")
struct InputCheckTests {
    private static func features(_ shape: [Int], seed: UInt64, maps: [String: [Int]] = [:], logits: [Int]? = nil) -> Features {
        Features(embedding: randomTensor(shape, seed: seed), logits: logits.map { randomTensor($0, seed: seed + 1) },
                 maps: maps.mapValues { randomTensor($0, seed: seed + 2) })
    }

    private static func context(student: [Int], teacher: [Int]?, labels: [Int]? = nil,
                                studentMaps: [String: [Int]] = [:], teacherMaps: [String: [Int]] = [:],
                                studentLogits: [Int]? = nil, teacherLogits: [Int]? = nil) -> TransferContext {
        TransferContext(student: features(student, seed: 1, maps: studentMaps, logits: studentLogits),
                        teacher: teacher.map { features($0, seed: 5, maps: teacherMaps, logits: teacherLogits) }, labels: labels)
    }

    /// Every loss with a context it cannot use, and the error it names.
    @Test func contextsALossCannotUseAreNamed() throws {
        var g = RandomGenerator(seed: 3)
        let cases: [(loss: any TransferLoss, context: TransferContext, message: String)] = [
            (FeatureL2Transfer(), Self.context(student: [2, 3], teacher: nil),
             "l2: needs teacher features, but the context has none"),
            (FeatureL2Transfer(), Self.context(student: [2, 3], teacher: [2, 5]),
             "l2: student dimension 3 differs from teacher dimension 5; build the loss with init(distance:studentDimension:teacherDimension:using:)"),
            (FeatureL2Transfer(studentDimension: 3, teacherDimension: 4, using: &g), Self.context(student: [2, 2], teacher: [2, 4]),
             "l2: the projection maps dimension 3 to 4, but the student's embeddings have 2 and the teacher's 4"),
            (NeuronSelectivityTransfer(map: "stage4"), Self.context(student: [2, 3], teacher: [2, 3], studentMaps: ["stage3": [2, 1, 2, 2]], teacherMaps: ["stage4": [2, 1, 2, 2]]),
             "nst: the student has no feature map 'stage4' (it has stage3)"),
            (NeuronSelectivityTransfer(studentMap: "a", teacherMap: "b"), Self.context(student: [2, 3], teacher: [2, 3], studentMaps: ["a": [2, 1, 2, 2]]),
             "nst: the teacher has no feature map 'b' (it has none)"),
            (NeuronSelectivityTransfer(map: "a"), Self.context(student: [2, 3], teacher: [2, 3], studentMaps: ["a": [2, 4]], teacherMaps: ["a": [2, 1, 2, 2]]),
             "nst: feature maps must be [B, C, H, W], got student [2, 4] and teacher [2, 1, 2, 2]"),
            (DarkRank(mode: .soft(listLength: 4)), Self.context(student: [4, 3], teacher: [4, 3]),
             "darkrank-soft: needs a batch of at least 5 samples (more than the list length), got 4"),
            (DarkRank(mode: .hard(listLength: nil)), Self.context(student: [2, 3], teacher: nil),
             "darkrank-hard: needs teacher features"),
            (MMDTransfer(), Self.context(student: [2, 3], teacher: [2, 4]),
             "mmd: embeddings must be [n, D] and [m, D] with one D, got source [2, 4] and target [2, 3]"),
            (MMDTransfer(), Self.context(student: [2, 3], teacher: nil),
             "mmd: needs source-domain features: set the context's `source` or `teacher`"),
            (DANN(embeddingDimension: 8, using: &g), Self.context(student: [2, 4], teacher: [2, 4]),
             "dann: its domain classifier takes 8-dimensional embeddings, got 4; build it with inputDimension 4"),
            (ADDA(embeddingDimension: 8, using: &g), Self.context(student: [2, 4], teacher: [2, 4]),
             "adda: its domain classifier takes 8-dimensional embeddings, got 4"),
            (DANN(domainHead: DomainDiscriminator(inputDimension: 4, hidden: [3], outputs: 1, activation: .relu, using: &g)),
             Self.context(student: [2, 4], teacher: [2, 4]), "dann: its domain classifier gives 1 logits per row; it needs 2"),
            (ADDA(critic: DomainDiscriminator(inputDimension: 4, hidden: [3], outputs: 3, activation: .relu, using: &g)),
             Self.context(student: [2, 4], teacher: [2, 4]), "adda: its domain classifier gives 3 logits per row; it needs 2 or 1"),
            (GuidedCNN(classes: 3, embeddingDimension: 4, using: &g), Self.context(student: [2, 4], teacher: [2, 4], labels: [0, 3]),
             "guided-cnn: its head: label 3 is out of range 0..<3"),
            (GuidedCNN(classes: 3, embeddingDimension: 4, using: &g), Self.context(student: [2, 4], teacher: [2, 4]),
             "guided-cnn: needs identity labels, but the context has none"),
            (GuidedCNN(classes: 3, embeddingDimension: 4, using: &g), Self.context(student: [2, 5], teacher: [2, 5], labels: [0, 1]),
             "guided-cnn: its head: embedding must be [B, 4], got shape [2, 5]"),
            (KnowledgeDistillation(), Self.context(student: [2, 4], teacher: [2, 4], teacherLogits: [2, 3]),
             "kd: the student's Features have no logits"),
            (KnowledgeDistillation(), Self.context(student: [2, 4], teacher: [2, 4], studentLogits: [2, 3], teacherLogits: [2, 5]),
             "kd: student logits [2, 3] and teacher logits [2, 5] must be the same [B, classes] shape"),
            (WeightedTransferLoss([(5, FeatureL2Transfer()), (50, NeuronSelectivityTransfer(map: "m"))]), Self.context(student: [2, 4], teacher: [2, 4]),
             "nst: the student has no feature map 'm' (it has none)"),
        ]
        for (loss, context, message) in cases {
            do {
                try loss.check(context)
                Issue.record("\(loss.name) accepted a context it cannot use (expected: \(message))")
            } catch let error as LossInputError {
                #expect(error.description.hasPrefix(message), "\(error)")
                #expect(error.loss == loss.name || loss is WeightedTransferLoss)
            }
        }
    }

    /// What the checks accept the losses compute: every loss on a context it can use.
    @Test func contextsALossCanUsePassAndCompute() throws {
        var g = RandomGenerator(seed: 4)
        let maps = ["m": [6, 2, 3, 3]]
        let cases: [(loss: any TransferLoss, context: TransferContext)] = [
            (FeatureL2Transfer(), Self.context(student: [6, 4], teacher: [6, 4])),
            (FeatureL2Transfer(studentDimension: 3, teacherDimension: 4, using: &g), Self.context(student: [6, 3], teacher: [6, 4])),
            (NeuronSelectivityTransfer(map: "m"), Self.context(student: [6, 4], teacher: [6, 5], studentMaps: maps, teacherMaps: ["m": [6, 3, 4, 4]])),
            (DarkRank(mode: .soft(listLength: 4)), Self.context(student: [5, 3], teacher: [5, 4])),
            (DarkRank(mode: .hard(listLength: nil)), Self.context(student: [3, 3], teacher: [3, 3])),
            (MMDTransfer(), Self.context(student: [6, 4], teacher: [6, 4])),
            (DANN(embeddingDimension: 4, using: &g), Self.context(student: [6, 4], teacher: [6, 4])),
            (ADDA(embeddingDimension: 4, using: &g), Self.context(student: [6, 4], teacher: [6, 4])),
            (ADDA(critic: DomainDiscriminator(inputDimension: 4, hidden: [3], outputs: 1, activation: .relu, using: &g)),
             Self.context(student: [6, 4], teacher: [6, 4])),
            (GuidedCNN(classes: 3, embeddingDimension: 4, using: &g), Self.context(student: [6, 4], teacher: [6, 4], labels: [0, 1, 2, 2, 1, 0])),
            (KnowledgeDistillation(), Self.context(student: [6, 4], teacher: [6, 4], studentLogits: [6, 3], teacherLogits: [6, 3])),
        ]
        for (loss, context) in cases {
            #expect(throws: Never.self, "\(loss.name)") { try loss.check(context) }
            #expect(loss(context).item.isFinite, "\(loss.name)")
        }
    }

    @Test func marginHeadNamesEmbeddingsAndLabelsItCannotScore() throws {
        var g = RandomGenerator(seed: 2)
        let head = MarginHead.arcFace(classes: 3, embeddingDimension: 4, using: &g)
        let cases: [(shape: [Int], labels: [Int], message: String)] = [
            ([2, 4], [0, 3], "MarginHead: label 3 is out of range 0..<3"),
            ([2, 4], [-1, 0], "MarginHead: label -1 is out of range 0..<3"),
            ([2, 4], [0], "MarginHead: embeddings have batch size 2 but 1 labels were given"),
            ([2, 5], [0, 1], "MarginHead: embedding must be [B, 4], got shape [2, 5]"),
            ([0, 4], [], "MarginHead: empty batch"),
        ]
        for (shape, labels, message) in cases {
            #expect(throws: LossInputError.self) { try head.check(embeddingShape: shape, labels: labels) }
            do { try head.check(embeddingShape: shape, labels: labels) } catch {
                #expect("\(error)" == message)
            }
        }
        try head.check(embeddingShape: [2, 4], labels: [0, 2])
    }
}
