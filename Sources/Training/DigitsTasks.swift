import Tensor
import Layers
import Optim
import Losses

/// Supervised training on the labelled source domain — ADDA's pre-training stage and the
/// source-only baseline (Tzeng et al., CVPR 2017, Eq. 1):
///
///     min_{M_s, C}  CE(C(M_s(x_s)), y_s)
///
/// on the batch's source view (``TrainingBatch/highResolution`` and its labels); the target
/// view is ignored.
public final class DigitsSourceTask: TrainingTask {
    public let encoder: any FeatureExtractor
    /// Maps embeddings to class logits.
    public let classifier: any Layer
    public let optimizer: any Optimizer

    public init(encoder: any FeatureExtractor, classifier: any Layer, optimizer: any Optimizer) {
        self.encoder = encoder
        self.classifier = classifier
        self.optimizer = optimizer
    }

    public var checkpointedModules: [(name: String, module: any Module)] { [("encoder", encoder), ("classifier", classifier)] }
    public var optimizers: [(name: String, optimizer: any Optimizer)] { [("optimizer", optimizer)] }

    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        encoder.train()
        classifier.train()
        let loss = softmaxCrossEntropy(logits: classifier(encoder(batch.highResolution)), labels: batch.labels)
        let terms = [(name: "classification", value: loss.item)]
        try ensureFinite(terms)
        let gradients = loss.backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}

/// Domain-adversarial training through a gradient-reversal layer (Ganin & Lempitsky, ICML
/// 2015; the "gradient reversal" row of ADDA's Table 2): one encoder `E` shared by both
/// domains, trained in a single minimisation of
///
///     L = CE(C(E(x_s)), y_s) + w · CE(D(R_λ([E(x_s); E(x_t)])), [0…0, 1…1])
///
/// where `R_λ` is identity forward and `−λ·g` backward, so the domain head `D` learns the
/// domains while the encoder learns to confuse it; `λ` follows ``DANN``'s schedule
/// `2/(1 + e^{−γp}) − 1` on the training progress `p`. Source = ``TrainingBatch/highResolution``
/// with labels, target = ``TrainingBatch/lowResolution`` (unlabelled).
public final class DigitsDANNTask: TrainingTask {
    public let encoder: any FeatureExtractor
    public let classifier: any Layer
    public let domain: DANN
    /// The weight `w` of the domain term.
    public let domainWeight: Float
    /// Holds the encoder's, the classifier's and the domain head's parameters.
    public let optimizer: any Optimizer

    public init(encoder: any FeatureExtractor, classifier: any Layer, domain: DANN, domainWeight: Float = 1, optimizer: any Optimizer) {
        precondition(domainWeight.isFinite && domainWeight >= 0, "DigitsDANNTask: domain weight must be finite and non-negative, got \(domainWeight)")
        self.encoder = encoder
        self.classifier = classifier
        self.domain = domain
        self.domainWeight = domainWeight
        self.optimizer = optimizer
    }

    /// Everything the single optimiser trains.
    public static func parameters(encoder: any FeatureExtractor, classifier: any Layer, domain: DANN) -> [Parameter] {
        encoder.parameters() + classifier.parameters() + domain.parameters()
    }

    public var checkpointedModules: [(name: String, module: any Module)] {
        [("encoder", encoder), ("classifier", classifier), ("domain", domain)]
    }
    public var optimizers: [(name: String, optimizer: any Optimizer)] { [("optimizer", optimizer)] }

    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        encoder.train()
        classifier.train()
        domain.train()
        let source = encoder.features(batch.highResolution), target = encoder.features(batch.lowResolution)
        let classification = softmaxCrossEntropy(logits: classifier(source.embedding), labels: batch.labels)
        let domainLoss = domain(TransferContext(student: target, source: source, progress: progress))
        let terms = [(name: "classification", value: classification.item), (name: "domain", value: domainLoss.item),
                     (name: "lambda", value: domain.lambda(progress: progress))]
        try ensureFinite(terms)
        let gradients = (classification + domainWeight * domainLoss).backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}
