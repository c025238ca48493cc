import Tensor
import Layers

/// Guided-CNN joint supervision across resolutions (Fu, Chiu, Wang, "Learning Guided
/// Convolutional Neural Networks for Cross-Resolution Face Recognition", MLSP 2017).
///
/// A *guide* network sees the HR face (the context's teacher features `t`), a *learner* sees a
/// degraded view of the same face (the student's features `s`: low resolution, or occlusion,
/// or any other degradation — the loss never looks at the images). The paper's code is not
/// public and its loss forms could not be verified, so this is our formulation, built from its
/// abstract ("parallel sub-CNNs as guide and learners … joint supervision for images within and
/// across resolutions"):
///
///     L = w_g·H_g(t, y)                    guide identity loss (within HR)
///       + w_l·H_l(s, y)                    learner identity loss (within LR)
///       + w_x·H_g(s, y)                    learner's LR features classified by the guide's head
///       + w_f·‖ŝ − sg(t̂)‖²                 cross-resolution pull to the guide's feature (batch mean)
///
/// `H` are margin heads (``MarginHead``, ArcFace by default). By default the head is **shared**
/// (`H_l = H_g`), so the second and third terms coincide and only `w_l` counts; give a separate
/// `learnerHead` for distinct heads, and then `w_x` applies. `w_f` defaults to 5 like
/// ``FeatureL2Transfer``, whose value the last term equals.
///
/// Why: identity losses on both resolutions keep each branch discriminative; classifying LR
/// features with the HR-trained guide head and pulling them to the HR feature both align the
/// learner's space with the guide's, which is what cross-resolution matching (HR gallery, LR
/// probe) needs. The guide may be frozen (teacher features constants: only `H_g` learns from
/// the first term) or co-trained (its features on the tape). With `detachesGuide` (default) the
/// guide network receives gradient only from its own identity loss: its feature is detached in
/// the pull. A shared head is the learner's head too and learns from both identity losses; a
/// separate `learnerHead` leaves the guide head learning from the guide's identity loss alone
/// (its weights are detached when it classifies learner features).
///
/// Needs `student.embedding [B, D]`, `teacher.embedding [B, D]` (same faces, same D as the
/// heads) and `labels`.
public final class GuidedCNN: TransferLoss {
    public static let defaultWeight: Float = 1

    public let name = "guided-cnn"
    /// The guide's head (also the learner's when `learnerHead` is nil).
    public let head: MarginHead
    public let learnerHead: MarginHead?
    public let guideIdentityWeight: Float, learnerIdentityWeight: Float
    public let crossIdentityWeight: Float, crossFeatureWeight: Float
    public let detachesGuide: Bool

    public init(head: MarginHead, learnerHead: MarginHead? = nil, guideIdentityWeight: Float = 1,
                learnerIdentityWeight: Float = 1, crossIdentityWeight: Float = 1, crossFeatureWeight: Float = 5,
                detachesGuide: Bool = true) {
        precondition([guideIdentityWeight, learnerIdentityWeight, crossIdentityWeight, crossFeatureWeight].allSatisfy { $0 >= 0 && $0.isFinite },
                     "GuidedCNN: weights must be non-negative and finite, got guide \(guideIdentityWeight), learner \(learnerIdentityWeight), cross identity \(crossIdentityWeight), cross feature \(crossFeatureWeight)")
        if let learnerHead {
            precondition(learnerHead.classes == head.classes && learnerHead.embeddingDimension == head.embeddingDimension,
                         "GuidedCNN: learner head [\(learnerHead.classes), \(learnerHead.embeddingDimension)] differs from guide head [\(head.classes), \(head.embeddingDimension)]")
        }
        self.head = head
        self.learnerHead = learnerHead
        self.guideIdentityWeight = guideIdentityWeight
        self.learnerIdentityWeight = learnerIdentityWeight
        self.crossIdentityWeight = crossIdentityWeight
        self.crossFeatureWeight = crossFeatureWeight
        self.detachesGuide = detachesGuide
    }

    /// A shared ArcFace head (s = 64, m = 0.5) over `classes` identities.
    public convenience init(classes: Int, embeddingDimension: Int, using generator: inout RandomGenerator) {
        self.init(head: MarginHead.arcFace(classes: classes, embeddingDimension: embeddingDimension, using: &generator))
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        trapping { try check(context) }
        let labels = context.requireLabels(for: name)
        let t = context.requireTeacher(for: name).embedding, s = context.student.embedding
        var total = Tensor(0)
        if guideIdentityWeight > 0 { total = total + head.loss(t, labels: labels) * guideIdentityWeight }
        if learnerIdentityWeight > 0 { total = total + (learnerHead ?? head).loss(s, labels: labels) * learnerIdentityWeight }
        if let _ = learnerHead, crossIdentityWeight > 0 {
            total = total + guideHeadLoss(s, labels) * crossIdentityWeight
        }
        if crossFeatureWeight > 0 {
            let guide = detachesGuide ? t.detached() : t
            let pull = (s.l2Normalized(axis: 1) - guide.l2Normalized(axis: 1)).square().sum(alongAxis: 1).mean()
            total = total + pull * crossFeatureWeight
        }
        return total
    }

    /// Labels, and student and teacher embeddings both `[B, D]` of the heads' `D` and classes.
    public func check(_ context: TransferContext) throws {
        let labels = try context.checkedLabels(for: name)
        let t = try context.checkedTeacher(for: name).embedding.shape, s = context.student.embedding.shape
        guard s == t else {
            throw LossInputError(loss: name, message: "student \(s) and teacher \(t) embeddings must both be [B, \(head.embeddingDimension)]")
        }
        do { try head.check(embeddingShape: s, labels: labels) } catch let error as LossInputError {
            throw LossInputError(loss: name, message: "its head: " + error.message)
        }
    }

    /// The guide head's loss on learner features; its weights detached when `detachesGuide`.
    private func guideHeadLoss(_ s: Tensor, _ labels: [Int]) -> Tensor {
        guard detachesGuide else { return head.loss(s, labels: labels) }
        let cosines = s.l2Normalized(axis: 1).matmul(head.weight.value.detached().l2Normalized(axis: 1), transposeOther: true)
        let margin = head.margin
        return marginSoftmaxCrossEntropy(cosines: cosines, labels: labels, scale: head.scale) { margin($0) }
    }
}
