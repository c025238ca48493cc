import Tensor
import Layers
import Optim
import Training

/// A ``TrainingTask`` run data-parallel: the inner task's step (whose optimisers must be
/// ``DistributedOptimizer``s of the same group, which average the gradients), then two small collectives that keep what is not a gradient
/// consistent across ranks:
///
/// - every **buffer** of the checkpointed modules (BatchNorm running mean and variance) is
///   replaced by its mean over the ranks, so the replicas stay identical and rank 0's
///   checkpoint holds statistics of every shard — for the running mean exactly the running
///   mean of the global batch means (normalisation during training still uses each rank's own
///   batch statistics);
/// - the **loss terms** returned (and so logged by rank 0) are their means over the ranks — the
///   global batch's loss for mean losses — when every rank computed the same terms (a task whose
///   terms depend on its shard may differ; then rank 0's own terms are returned).
///
/// Decisions inside the step are common to every rank: the inner step runs with the group's
/// ``ProcessAgreement`` bound, so ``DistillationTask``'s encoder gate compares the mean of the
/// ranks' critic accuracies, and a NaN or infinity that one rank's ``ensureFinite(_:)`` finds in
/// its loss terms or gradients stops every rank at that check, before any update, with the same
/// error naming that rank; ``TrainingLoop`` then stops every rank at the same step, rank 0
/// logging the event, with rank 0's last checkpoint in the message.
///
/// The checkpointed modules and optimisers are the inner task's, so checkpoints are those of a
/// single-process run.
public final class DataParallelTask: TrainingTask {
    public let inner: any TrainingTask
    public let group: ProcessGroup

    /// Wraps `inner`, whose every optimiser must be a ``DistributedOptimizer`` (a plain one
    /// would leave each rank stepping with its own shard's gradients, so the replicas' weights
    /// drift apart while their losses and buffers are still averaged): a precondition, like
    /// wrapping a task twice.
    public init(_ inner: any TrainingTask, group: ProcessGroup) {
        precondition(!(inner is DataParallelTask), "DataParallelTask: the task is already data-parallel")
        let plain = Self.undistributedOptimizers(of: inner)
        precondition(plain.isEmpty, "DataParallelTask: \(plain.joined(separator: ", ")) of \(type(of: inner)) \(plain.count == 1 ? "is not a DistributedOptimizer" : "are not DistributedOptimizers"), so each rank would apply its own shard's gradients and the replicas' weights would drift apart; build the task with DistributedOptimizer(optimizer, group: group) (or group.distribute(optimizer))")
        let record = AgreedFailure()
        self.inner = inner
        self.group = group
        agreedFailure = record
        agreement = group.agreement(recording: record)
    }

    /// The optimisers of `task` that do not average their gradients over the ranks, each as
    /// `optimiser 'name' (Type)`.
    static func undistributedOptimizers(of task: any TrainingTask) -> [String] {
        task.optimizers.filter { !($0.optimizer is DistributedOptimizer) }.map { "optimiser '\($0.name)' (\(type(of: $0.optimizer)))" }
    }

    public var checkpointedModules: [(name: String, module: any Module)] { inner.checkpointedModules }
    public var optimizers: [(name: String, optimizer: any Optimizer)] { inner.optimizers }

    /// The group's ``ProcessAgreement``, bound as ``ProcessAgreement/current`` during the inner
    /// step and read by ``TrainingLoop`` for its stop decisions.
    public var processAgreement: ProcessAgreement? { agreement }
    private let agreement: ProcessAgreement
    /// The failure the last ``ProcessAgreement/firstFailure`` agreed on (reset at each step).
    private let agreedFailure: AgreedFailure

    /// Runs the inner step with ``processAgreement`` bound, so its encoder gate, its input checks
    /// (``ensureInputsFit(_:)``) and its ``ensureFinite(_:)`` checks decide with every process (each check is then a collective,
    /// taken at the same point on every rank, before any backward pass or update that follows
    /// it). A non-finite stop thrown that way is thrown by every rank, at the same check; a
    /// `TrainingError.nonFinite` the inner task threw on its own, without agreeing, would
    /// leave the other ranks waiting in a collective, so it becomes
    /// ``DistributedError/inconsistent(_:)`` (the rank then aborts the job, as for any error).
    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        agreedFailure.value = nil
        let terms: [(name: String, value: Float)]
        do {
            terms = try ProcessAgreement.$current.withValue(agreement) { try inner.step(batch, progress: progress) }
        } catch TrainingError.nonFinite(let step, let what, let last) {
            // One process has nobody to leave waiting: its own stop stands.
            guard agreedFailure.value == what || group.size == 1 else {
                throw DistributedError.inconsistent("rank \(group.rank) alone stopped its step of \(type(of: inner)): \(TrainingError.nonFinite(step: step, what: what, lastCheckpoint: last)); a task run data-parallel must check with ensureFinite, which stops every rank together")
            }
            throw TrainingError.nonFinite(step: step, what: what, lastCheckpoint: last)
        }
        try averageBuffers()
        return try averaged(terms)
    }

    /// Replaces every buffer of the checkpointed modules by its mean over the ranks (one
    /// all-reduce of all buffers packed in module order).
    public func averageBuffers() throws {
        let buffers = inner.checkpointedModules.flatMap { $0.module.namedBuffers().map(\.buffer) }
        let total = buffers.reduce(0) { $0 + $1.value.count }
        guard total > 0 else { return }
        let flat = TensorStorage(count: total)
        var offset = 0
        for buffer in buffers {
            buffer.value.withUnsafeBufferPointer { (flat.base + offset).update(from: $0.baseAddress!, count: $0.count) }
            offset += buffer.value.count
        }
        try group.allReduceSum(UnsafeMutableBufferPointer(start: flat.base, count: total))
        let scale = 1 / Float(group.size)
        offset = 0
        withExtendedLifetime(flat) {  // `start` points into it
            for buffer in buffers {
                let start = flat.base + offset, count = buffer.value.count
                buffer.value = Tensor(shape: buffer.shape) { for i in 0..<count { $0[i] = start[i] * scale } }
                offset += count
            }
        }
    }

    /// The mean over ranks of each term, when every rank has the same term names.
    func averaged(_ terms: [(name: String, value: Float)]) throws -> [(name: String, value: Float)] {
        let names = terms.map(\.name).joined(separator: "\u{1F}")
        let fingerprints = try group.allGather(values: [Int64(bitPattern: ProcessGroup.fingerprint(names))], width: 1)
        guard fingerprints.allSatisfy({ $0 == fingerprints[0] }), !terms.isEmpty else { return terms }
        var values = terms.map(\.value)
        try values.withUnsafeMutableBufferPointer { try group.allReduceSum($0) }
        return zip(terms, values).map { ($0.name, $1 / Float(group.size)) }
    }
}

/// The failure a data-parallel step's ranks agreed on, set by the agreement's `firstFailure`
/// (on the training thread: a step's checks run one after the other).
final class AgreedFailure: @unchecked Sendable {
    var value: String?
}

extension ProcessGroup {
    /// The collectives of a ``ProcessAgreement`` over this group; `record` keeps the last
    /// failure agreed on. A group of one process agrees with itself without MPI calls (and its
    /// failures do not name a rank, as in a run without the group).
    func agreement(recording record: AgreedFailure) -> ProcessAgreement {
        guard size > 1 else {
            return ProcessAgreement(rank: 0, processCount: 1, mean: { $0 }, firstFailure: { local in
                record.value = local
                return local
            }, rootValue: { $0 }, barrier: {})
        }
        return ProcessAgreement(rank: rank, processCount: size, mean: { [self] values in
            var sums = values
            try sums.withUnsafeMutableBufferPointer { try allReduceSum($0) }
            return sums.map { $0 / Float(size) }
        }, firstFailure: { [self] local in
            let failure = try firstFailure(local)
            record.value = failure
            return failure
        }, rootValue: { [self] value in
            let bytes = try broadcast(bytes: value.map { [1] + Array($0.utf8) } ?? [0])
            return bytes.first == 1 ? String(decoding: bytes.dropFirst(), as: UTF8.self) : nil
        }, barrier: { [self] in try barrier() })
    }

    /// Collective: `nil` when no rank has a failure, else the lowest failing rank's `local`
    /// with its rank (and the other failing ranks) — one all-gather of a length per rank, and a
    /// second of the texts only when some rank failed.
    func firstFailure(_ local: String?) throws -> String? {
        let text = local.map { Array($0.utf8) } ?? []
        let lengths = try allGather(values: [local == nil ? -1 : Int64(text.count)], width: 1).map { Int($0[0]) }
        let failed = lengths.indices.filter { lengths[$0] >= 0 }
        guard let first = failed.first else { return nil }
        let width = max(1, (lengths.max()! + 7) / 8)
        var packed = [Int64](repeating: 0, count: width)
        packed.withUnsafeMutableBytes { raw in raw.copyBytes(from: text) }
        let texts = try allGather(values: packed, width: width)
        let what = texts[first].withUnsafeBytes { String(decoding: $0.prefix(lengths[first]), as: UTF8.self) }
        let others = failed.dropFirst().map(String.init)
        return "\(what) on rank \(first)" + (others.isEmpty ? "" : " (and on rank\(others.count > 1 ? "s" : "") \(others.joined(separator: ", ")))")
    }
}
