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

    /// The teacher's features, or a ``LossInputError`` naming the loss that needs them.
    public func checkedTeacher(for loss: String) throws -> Features {
        guard let teacher else { throw LossInputError(loss: loss, message: "needs teacher features, but the context has none") }
        return teacher
    }

    /// The labels, or a ``LossInputError`` naming the loss that needs them.
    public func checkedLabels(for loss: String) throws -> [Int] {
        guard let labels else { throw LossInputError(loss: loss, message: "needs identity labels, but the context has none") }
        return labels
    }

    /// Source-domain embeddings `[Bs, D]`: ``source``'s, else the teacher's (detached); a
    /// ``LossInputError`` when the context has neither.
    public func checkedSourceEmbedding(for loss: String) throws -> Tensor {
        if let source { return source.embedding }
        guard let teacher else {
            throw LossInputError(loss: loss, message: "needs source-domain features: set the context's `source` or `teacher`")
        }
        return teacher.embedding.detached()
    }

    /// ``checkedTeacher(for:)``, or a stop with its message (``trapping(file:line:_:)``).
    public func requireTeacher(for loss: String, file: StaticString = #fileID, line: UInt = #line) -> Features {
        trapping(file: file, line: line) { try checkedTeacher(for: loss) }
    }

    /// ``checkedLabels(for:)``, or a stop with its message.
    public func requireLabels(for loss: String, file: StaticString = #fileID, line: UInt = #line) -> [Int] {
        trapping(file: file, line: line) { try checkedLabels(for: loss) }
    }

    /// ``checkedSourceEmbedding(for:)``, or a stop with its message.
    public func sourceEmbedding(for loss: String, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        trapping(file: file, line: line) { try checkedSourceEmbedding(for: loss) }
    }
}

extension Features {
    /// The map called `name`, or a ``LossInputError`` for `loss` listing the maps there are
    /// (`owner`, "student" or "teacher", names whose features these are).
    public func checkedMap(_ name: String, owner: String, loss: String) throws -> Tensor {
        guard let map = maps[name] else {
            let known = maps.keys.sorted()
            throw LossInputError(loss: loss, message: "the \(owner) has no feature map '\(name)' (it has \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        return map
    }

    /// ``checkedMap(_:owner:loss:)``, or a stop with its message.
    public func requireMap(_ name: String, owner: String, loss: String, file: StaticString = #fileID, line: UInt = #line) -> Tensor {
        trapping(file: file, line: line) { try checkedMap(name, owner: owner, loss: loss) }
    }
}

/// Throws a ``LossInputError`` for `loss` unless student and teacher embeddings of these shapes
/// are `[B, D_s]` and `[B, D_t]`: the same faces, row for row.
public func checkPairedEmbeddings(student: [Int], teacher: [Int], loss: String) throws {
    guard student.count == 2 && teacher.count == 2 else {
        throw LossInputError(loss: loss, message: "embeddings must be [B, D], got student \(student) and teacher \(teacher)")
    }
    guard student[0] == teacher[0] else {
        throw LossInputError(loss: loss, message: "student batch size \(student[0]) differs from teacher batch size \(teacher[0])")
    }
}

/// Throws a ``LossInputError`` for `loss` unless source and target embeddings of these shapes
/// are `[n, D]` and `[m, D]` with one `D` that `classifier` takes, giving one of `outputs`
/// logits per row (when it is a ``DomainDiscriminator``; another layer's widths are only known
/// when it runs).
func checkDomainEmbeddings(source: [Int], target: [Int], classifier: (any Layer)? = nil, outputs: [Int] = [], loss: String) throws {
    guard source.count == 2 && target.count == 2 && source[1] == target[1] else {
        throw LossInputError(loss: loss, message: "embeddings must be [n, D] and [m, D] with one D, got source \(source) and target \(target)")
    }
    guard let discriminator = classifier as? DomainDiscriminator else { return }
    guard discriminator.inputDimension == source[1] else {
        throw LossInputError(loss: loss, message: "its domain classifier takes \(discriminator.inputDimension)-dimensional embeddings, got \(source[1]); build it with inputDimension \(source[1])")
    }
    guard outputs.contains(discriminator.outputs) else {
        throw LossInputError(loss: loss, message: "its domain classifier gives \(discriminator.outputs) logits per row; it needs \(outputs.map(String.init).joined(separator: " or "))")
    }
}
