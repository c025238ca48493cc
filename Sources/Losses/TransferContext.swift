import Tensor
import Layers

/// Everything a transfer loss may look at for one training step.
///
/// - `student`: the student's ``Features`` on the degraded (LR, occluded…) view — the
///   *target* domain of domain losses.
/// - `teacher`: the teacher's features on the HR view of the same faces, row for row. Losses
///   treat them as constants (they detach them), except a co-trained Guided-CNN guide.
/// - `labels`: identity labels of the batch, when the loss classifies.
/// - `source`: features of a *source-domain* (HR) batch for domain losses (MMD, DANN, ADDA),
///   when they are not the teacher's — e.g. the student's own features on HR images (DANN
///   with a shared encoder). When `nil`, domain losses use the teacher's features as the
///   source, the seed's setting (HR network = source, LR network = target). Its batch size may
///   differ from the student's.
/// - `progress`: training progress `p ∈ [0, 1]` (DANN's λ schedule).
public struct TransferContext {
    public var student: Features
    public var teacher: Features?
    public var labels: [Int]?
    public var source: Features?
    public var progress: Float

    public init(student: Features, teacher: Features? = nil, labels: [Int]? = nil,
                source: Features? = nil, progress: Float = 0) {
        precondition(progress >= 0 && progress <= 1, "TransferContext: progress must be in [0, 1], got \(progress)")
        if let teacher {
            precondition(teacher.batchSize == student.batchSize,
                         "TransferContext: teacher batch size \(teacher.batchSize) differs from student batch size \(student.batchSize) (rows must be the same faces)")
        }
        if let labels {
            precondition(labels.count == student.batchSize,
                         "TransferContext: \(labels.count) labels for a student batch of \(student.batchSize)")
        }
        self.student = student
        self.teacher = teacher
        self.labels = labels
        self.source = source
        self.progress = progress
    }

    /// The teacher's features, or a failure naming the loss that needs them.
    public func requireTeacher(for loss: String) -> Features {
        guard let teacher else { preconditionFailure("\(loss): needs teacher features, but the context has none") }
        return teacher
    }

    /// The labels, or a failure naming the loss that needs them.
    public func requireLabels(for loss: String) -> [Int] {
        guard let labels else { preconditionFailure("\(loss): needs identity labels, but the context has none") }
        return labels
    }

    /// Source-domain embeddings `[Bs, D]`: ``source``'s, else the teacher's (detached).
    public func sourceEmbedding(for loss: String) -> Tensor {
        if let source { return source.embedding }
        guard let teacher else {
            preconditionFailure("\(loss): needs source-domain features: set the context's `source` or `teacher`")
        }
        return teacher.embedding.detached()
    }
}

extension Features {
    /// The map called `name`, or a failure listing the maps there are.
    func requireMap(_ name: String, owner: String, loss: String) -> Tensor {
        guard let map = maps[name] else {
            let known = maps.keys.sorted()
            preconditionFailure("\(loss): the \(owner) has no feature map '\(name)' (it has \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        return map
    }
}
