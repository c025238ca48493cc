import Tensor
import Layers

/// Adversarial discriminative domain adaptation (Tzeng, Hoffman, Saenko, Darrell, CVPR 2017;
/// corenel/pytorch-adda `core/adapt.py`, the seed's items 5–7).
///
/// A critic `D` tells source embeddings (the frozen HR teacher, label 1) from target ones (the
/// LR student, label 0). Two objectives, minimised alternately by two optimisers:
///
///     critic  (criticLoss):      L_D = CE(D([sg(z_s); sg(z_t)]), [1…1, 0…0])      inputs detached
///     encoder (callAsFunction):  L_M = CE(D(z_t), [1…1])                           inverted labels
///
/// With a two-logit critic (the seed's and corenel's) the cross-entropy is the mean over the
/// concatenated batch, as corenel's `CrossEntropyLoss`. With a single-logit critic (`[N, 1]`,
/// sigmoid) it is the paper's GAN form `L_D = −mean log σ(a_s) − mean log(1 − σ(a_t))`,
/// `L_M = −mean log σ(a_t)`. The seed's recipe: Adam lr 1e-4, β = (0.5, 0.9) for both; the
/// target encoder starts as a copy of the source encoder.
///
/// The encoder step's backward also produces gradients for the critic's parameters — the
/// encoder optimiser must not use them (``AdversarialTransferLoss/nonCriticParameters``). The
/// seed's MXNet route (critic backward → input gradients → encoder `backward(gradient:)`)
/// gives the same encoder gradient as one backward pass (tested).
/// Source = the context's ``TransferContext/source`` or the teacher's embeddings; target = the
/// student's. Default critic: ``DomainDiscriminator/seed(inputDimension:using:)``; weight 1.
public final class ADDA: AdversarialTransferLoss {
    public static let defaultWeight: Float = 1

    public let name = "adda"
    /// Maps `[N, D]` embeddings to `[N, 2]` (softmax) or `[N, 1]` (sigmoid) logits.
    public let critic: any Layer

    public init(critic: any Layer) { self.critic = critic }

    public convenience init(embeddingDimension: Int, using generator: inout RandomGenerator) {
        self.init(critic: DomainDiscriminator.seed(inputDimension: embeddingDimension, using: &generator))
    }

    public var criticParameters: [Parameter] { critic.parameters() }

    public func criticLoss(_ context: TransferContext) -> Tensor {
        trapping { try check(context) }
        let source = context.sourceEmbedding(for: name).detached(), target = context.student.embedding.detached()
        return ADDA.criticObjective(sourceLogits: critic(source), targetLogits: critic(target))
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        ADDA.encoderObjective(targetLogits: critic(context.student.embedding))
    }

    public func check(_ context: TransferContext) throws {
        try checkDomainEmbeddings(source: context.checkedSourceEmbedding(for: name).shape, target: context.student.embedding.shape,
                                  classifier: critic, outputs: [2, 1], loss: name)
    }

    /// Source predicted where the two-class logits favour class 1: a single logit `a` where
    /// `σ(a) > ½`, i.e. `a > 0`.
    public func criticAccuracy(_ context: TransferContext) -> Float? {
        withoutGradients {
            let source = context.sourceEmbedding(for: name).detached(), target = context.student.embedding.detached()
            let s = ADDA.twoClass(critic(source), "criticAccuracy").argmax(alongAxis: 1)
            let t = ADDA.twoClass(critic(target), "criticAccuracy").argmax(alongAxis: 1)
            return Float(s.filter { $0 == 1 }.count + t.filter { $0 == 0 }.count) / Float(s.count + t.count)
        }
    }

    /// `L_D` from the critic's logits on source and target embeddings (both `[N, 2]` or both
    /// `[N, 1]`: mixed widths are a precondition failure).
    public static func criticObjective(sourceLogits: Tensor, targetLogits: Tensor) -> Tensor {
        let s = twoClass(sourceLogits, "criticObjective"), t = twoClass(targetLogits, "criticObjective")
        precondition(sourceLogits.shape[1] == targetLogits.shape[1],
                     "ADDA.criticObjective: source logits \(sourceLogits.shape) and target logits \(targetLogits.shape) differ in width; the critic must give both [N, 2] or both [N, 1]")
        let ones = [Int](repeating: 1, count: s.shape[0]), zeros = [Int](repeating: 0, count: t.shape[0])
        if sourceLogits.shape[1] == 1 {
            return softmaxCrossEntropy(logits: s, labels: ones) + softmaxCrossEntropy(logits: t, labels: zeros)
        }
        return softmaxCrossEntropy(logits: Tensor.concatenate([s, t], axis: 0), labels: ones + zeros)
    }

    /// `L_M` from the critic's logits on target embeddings: target labelled as source (1).
    public static func encoderObjective(targetLogits: Tensor) -> Tensor {
        let t = twoClass(targetLogits, "encoderObjective")
        return softmaxCrossEntropy(logits: t, labels: [Int](repeating: 1, count: t.shape[0]))
    }

    /// `[N, 2]` logits as they are; a single logit `a` as the pair `(0, a)` (softmax of which is
    /// `(1 − σ(a), σ(a))`).
    private static func twoClass(_ logits: Tensor, _ function: String) -> Tensor {
        precondition(logits.rank == 2 && (logits.shape[1] == 2 || logits.shape[1] == 1) && logits.shape[0] > 0,
                     "ADDA.\(function): critic logits must be [N, 2] or [N, 1] with N > 0, got \(logits.shape)")
        return logits.shape[1] == 2 ? logits : Tensor.concatenate([Tensor.zeros(logits.shape), logits], axis: 1)
    }
}
