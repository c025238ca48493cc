import Tensor
import Layers

/// DANN domain loss (Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR
/// 2016; used by SSPP-DAN, Hong et al., ICIP 2017, for single-sample-per-person face
/// recognition): a domain head behind a gradient-reversal layer classifies source (HR,
/// label 0) against target (LR, label 1) embeddings,
///
///     L = mean CE(D(R_λ([z_source; z_target])), [0…0, 1…1])
///
/// minimised in one step: the head learns the domains, the reversed gradient `−λ·∂L/∂z`
/// teaches the encoder(s) to confuse them. λ follows ``DANNSchedule`` on the context's
/// progress unless fixed. Source = the context's ``TransferContext/source`` (with gradient, for
/// a shared encoder) or the teacher's embeddings (constants); target = the student's. Default
/// head: SSPP-DAN's 1024-1024-2 (``DomainDiscriminator/dann(inputDimension:using:)``); weight 1.
/// Labels follow fungtion/DANN and SSPP-DAN (source 0, target 1).
public final class DANN: TransferLoss {
    public enum Strength: Sendable, Equatable {
        /// `λ_p = 2/(1 + e^{−γp}) − 1`.
        case schedule(gamma: Float = 10)
        case constant(Float)
    }

    public static let defaultWeight: Float = 1

    public let name = "dann"
    /// Maps `[N, D]` embeddings to `[N, 2]` domain logits.
    public let domainHead: any Layer
    public let strength: Strength

    /// `strength`: a schedule's γ finite and positive, a constant λ finite and non-negative.
    public init(domainHead: any Layer, strength: Strength = .schedule()) {
        switch strength {
        case .schedule(let gamma):
            precondition(gamma.isFinite && gamma > 0, "DANN: schedule γ must be finite and positive, got \(gamma)")
        case .constant(let lambda):
            precondition(lambda.isFinite && lambda >= 0, "DANN: constant λ must be finite and non-negative, got \(lambda)")
        }
        self.domainHead = domainHead
        self.strength = strength
    }

    public convenience init(embeddingDimension: Int, strength: Strength = .schedule(), using generator: inout RandomGenerator) {
        self.init(domainHead: DomainDiscriminator.dann(inputDimension: embeddingDimension, using: &generator), strength: strength)
    }

    /// λ at training progress `p`.
    public func lambda(progress: Float) -> Float {
        switch strength {
        case .schedule(let gamma): return DANNSchedule.lambda(progress: progress, gamma: gamma)
        case .constant(let value): return value
        }
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        trapping { try check(context) }
        let source = context.sourceEmbedding(for: name), target = context.student.embedding
        let features = gradientReversal(Tensor.concatenate([source, target], axis: 0), lambda: lambda(progress: context.progress))
        let logits = domainHead(features)
        precondition(logits.rank == 2 && logits.shape[1] == 2, "\(name): the domain head must output [N, 2] logits, got \(logits.shape)")
        let labels = [Int](repeating: 0, count: source.shape[0]) + [Int](repeating: 1, count: target.shape[0])
        return softmaxCrossEntropy(logits: logits, labels: labels)
    }

    public func check(_ context: TransferContext) throws {
        try checkDomainEmbeddings(source: context.checkedSourceEmbedding(for: name).shape, target: context.student.embedding.shape,
                                  classifier: domainHead, outputs: [2], loss: name)
    }
}
