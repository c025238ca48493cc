import Tensor
import Layers
import Optim
import Losses

/// Trains an LR student from a frozen HR teacher: the student's identity loss on the LR view
/// plus weighted transfer terms, with ADDA's alternating critic step when a term is adversarial.
///
/// Each step:
/// 0. the batch's image shapes checked against the networks' ``FeatureExtractor/inputShape``
///    (``ensureInputShape(_:fits:role:)``), and after the forward passes the features against
///    the head and every transfer term (``ensureInputsFit(_:)``): images of another size, a
///    missing feature map, mismatched dimensions, a batch too small for DarkRank or a label
///    beyond the head's classes throw ``TrainingError/invalidConfiguration(_:)`` before any
///    optimiser update;
/// 1. teacher features of the HR view — from the ``TeacherFeatureCache`` when given, else a
///    forward pass in eval mode without a tape;
/// 2. student features of the LR view (train mode);
/// 3. **critic step** (only if a term owns a critic): the critic's loss on detached inputs
///    (source label 1, target 0), its own optimiser (the seed's converged recipe: Adam 1e-4,
///    β = (0.5, 0.9));
/// 4. **encoder step**: identity loss + Σ wᵢ·termᵢ — adversarial terms use inverted labels
///    through the freshly updated critic — minimised by the student optimiser, which never
///    holds the critic's parameters. With ``encoderGate`` set, adversarial terms are left out
///    of this step while the critic's accuracy on the batch is below the gate (data-parallel:
///    the mean of the processes' accuracies, see ``encoderGate``).
public final class DistillationTask: TrainingTask {
    public let teacher: any FeatureExtractor
    public let student: any FeatureExtractor
    /// The student's identity head (`nil`: transfer terms only).
    public let head: MarginHead?
    /// The transfer terms (`nil`: the no-transfer baseline).
    public let transfer: WeightedTransferLoss?
    public let optimizer: any Optimizer
    public let criticOptimizer: (any Optimizer)?
    public let teacherCache: TeacherFeatureCache?
    /// Minimum critic accuracy (on the batch, before its update) for adversarial terms to
    /// train the encoder; `nil` never gates. In a data-parallel step (``ProcessAgreement/current``)
    /// the gate compares the mean of the processes' accuracies on their shards — the same
    /// decision on every process, as one process with the whole batch would take it when the
    /// shards are of equal size (the accuracy is a fraction of the shard's rows).
    public let encoderGate: Float?

    /// `transfer` may be any ``TransferLoss``; one that is not a ``WeightedTransferLoss`` is its
    /// single term, of weight 1. The `teacher` is put in eval mode and frozen.
    ///
    /// - Precondition: `teacher` and `student` are two networks (one object as both would be
    ///   frozen as the teacher, and nothing would train); a transfer with critic parameters needs a `criticOptimizer`; the student
    ///   `optimizer` must not hold critic parameters, and must hold every trainable parameter of
    ///   ``studentParameters(student:head:transfer:)`` (one left out would stay at its
    ///   initial value, silently).
    public init(teacher: any FeatureExtractor, student: any FeatureExtractor, head: MarginHead?,
                transfer: (any TransferLoss)?, optimizer: any Optimizer, criticOptimizer: (any Optimizer)? = nil,
                teacherCache: TeacherFeatureCache? = nil, encoderGate: Float? = nil) {
        precondition(teacher !== student, "DistillationTask: the teacher and the student are one network; the teacher is frozen, so nothing would train (give the student its own copy)")
        let transfer = transfer.map(Self.weighted)
        let critic = Set((transfer?.criticParameters ?? []).map(ObjectIdentifier.init))
        precondition(critic.isEmpty || criticOptimizer != nil,
                     "DistillationTask: the transfer '\(transfer?.name ?? "")' has a critic; pass a criticOptimizer for it")
        precondition(head != nil || transfer != nil, "DistillationTask: needs an identity head, transfer terms, or both")
        precondition(!optimizer.allParameters.contains { critic.contains(ObjectIdentifier($0)) },
                     "DistillationTask: the student optimizer holds critic parameters; give them to criticOptimizer only")
        let held = Set(optimizer.allParameters.map(ObjectIdentifier.init))
        let missing = Self.studentParameters(student: student, head: head, transfer: transfer)
            .filter { $0.isTrainable && !held.contains(ObjectIdentifier($0)) }
        precondition(missing.isEmpty,
                     "DistillationTask: the student optimizer lacks \(missing.count) trainable parameters (shapes \(missing.prefix(4).map(\.shape))\(missing.count > 4 ? ", …" : "")) of the student, head or transfer; build it over DistillationTask.studentParameters(student:head:transfer:), or freeze what should not train")
        self.teacher = teacher
        self.student = student
        self.head = head
        self.transfer = transfer
        self.optimizer = optimizer
        self.criticOptimizer = criticOptimizer
        self.teacherCache = teacherCache
        self.encoderGate = encoderGate
        teacher.eval().freeze()
    }

    /// The parameters the student optimiser should train: student, head and the transfer
    /// terms' own non-critic parameters (projections, domain heads).
    public static func studentParameters(student: any FeatureExtractor, head: MarginHead?, transfer: (any TransferLoss)?) -> [Parameter] {
        student.parameters() + (head?.parameters() ?? []) + (transfer.map(weighted)?.nonCriticParameters ?? [])
    }

    /// `loss` as a weighted sum: itself when it is one, else its single term of weight 1.
    static func weighted(_ loss: any TransferLoss) -> WeightedTransferLoss {
        loss as? WeightedTransferLoss ?? WeightedTransferLoss([(1, loss)])
    }

    public var checkpointedModules: [(name: String, module: any Module)] {
        [("student", student)] + (transfer.map { [("transfer", $0 as any Module)] } ?? []) + (head.map { [("head", $0 as any Module)] } ?? [])
    }

    public var optimizers: [(name: String, optimizer: any Optimizer)] {
        [("optimizer", optimizer)] + (criticOptimizer.map { [("critic_optimizer", $0)] } ?? [])
    }

    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        if teacherCache != nil {
            // Before the student's forward pass, which moves its BatchNorm statistics and dropout streams.
            try ensureInputsFit {
                guard let row = batch.flipped.firstIndex(of: true) else { return }
                throw MirroredRowError(description: "the teacher feature cache holds the teacher's features of unmirrored HR images, but row \(row) of this batch (dataset index \(batch.indices[row])) is mirrored (LoaderOptions.flip): turn flip off, or let the teacher see each batch (no teacherCache)")
            }
        } else {
            try ensureInputShape(batch.highResolution.shape, fits: teacher, role: "the teacher on the HR images")
        }
        try ensureInputShape(batch.lowResolution.shape, fits: student, role: "the student on the LR views")
        let teacherFeatures = teacherCache?.features(batch.indices)
            ?? withoutGradients { teacher.features(batch.highResolution) }.detached()
        student.train()
        let context = TransferContext(student: student.features(batch.lowResolution), teacher: teacherFeatures,
                                      labels: batch.labels, progress: progress)
        try ensureInputsFit {
            try head?.check(embeddingShape: context.student.embedding.shape, labels: batch.labels)
            try transfer?.check(context)
        }
        var terms: [(name: String, value: Float)] = []

        var gateOpen = true
        if let criticOptimizer, let transfer {
            if let accuracy = transfer.criticAccuracy(context) {
                terms.append(("critic_accuracy", accuracy))
                if let encoderGate {
                    // Data-parallel: the mean of the shards' accuracies, so every process takes the
                    // same branch (a closed gate skips the backward and its collectives).
                    let agreed = try ProcessAgreement.current.map { try $0.mean([accuracy])[0] } ?? accuracy
                    gateOpen = agreed >= encoderGate
                }
            } else if encoderGate != nil {
                throw TrainingError.invalidConfiguration("the encoder gate reads the critics' accuracy, which no adversarial term of '\(transfer.name)' reports (AdversarialTransferLoss.criticAccuracy)")
            }
            let criticLoss = transfer.criticLoss(context)
            terms.append(("critic", criticLoss.item))
            try ensureFinite(terms)
            let criticGradients = criticLoss.backward(retaining: .leaves)
            try ensureFinite(criticGradients, updatedBy: criticOptimizer, in: checkpointedModules)
            criticOptimizer.step(criticGradients)
        }

        var total: Tensor? = nil
        if let head {
            let identity = head.loss(context.student.embedding, labels: batch.labels)
            terms.append(("identity", identity.item))
            total = identity
        }
        for term in transfer?.terms ?? [] {
            let adversarial = !((term.loss as? any AdversarialTransferLoss)?.criticParameters.isEmpty ?? true)
            if adversarial && !gateOpen { continue }
            let value = term.value(context)
            terms.append((term.name, value.item))
            total = total.map { $0 + term.weight * value } ?? term.weight * value
        }
        try ensureFinite(terms)
        guard let total else {
            // Nothing to minimise this step (the gate closed on every term): the optimiser still
            // counts the step, so its schedule stays on the loop's step as the critic's does.
            optimizer.step(Gradients())
            return terms
        }
        let gradients = total.backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}

/// A mirrored row given to a ``DistillationTask`` with a ``TeacherFeatureCache``.
private struct MirroredRowError: Error, CustomStringConvertible {
    let description: String
}
