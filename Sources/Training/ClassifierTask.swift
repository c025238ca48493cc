import Tensor
import Layers
import Optim
import Losses

/// Trains a backbone with a margin head on the HR view — the teacher's training.
public final class ClassifierTask: TrainingTask {
    public let backbone: any FeatureExtractor
    public let head: MarginHead
    public let optimizer: any Optimizer

    public init(backbone: any FeatureExtractor, head: MarginHead, optimizer: any Optimizer) {
        self.backbone = backbone
        self.head = head
        self.optimizer = optimizer
    }

    public var checkpointedModules: [(name: String, module: any Module)] { [("backbone", backbone), ("head", head)] }
    public var optimizers: [(name: String, optimizer: any Optimizer)] { [("optimizer", optimizer)] }

    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        try ensureInputShape(batch.highResolution.shape, fits: backbone, role: "the backbone on the HR images")
        backbone.train()
        let embedding = backbone.features(batch.highResolution).embedding
        try ensureInputsFit { try head.check(embeddingShape: embedding.shape, labels: batch.labels) }
        let loss = head.loss(embedding, labels: batch.labels)
        let terms = [(name: "identity", value: loss.item)]
        try ensureFinite(terms)
        let gradients = loss.backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}
