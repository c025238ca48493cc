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
///   global batch's loss for mean losses — when every rank computed the same terms (an ADDA
///   gate may drop a term on some shards; then rank 0's own terms are returned).
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
        self.inner = inner
        self.group = group
    }

    /// The optimisers of `task` that do not average their gradients over the ranks, each as
    /// `optimiser 'name' (Type)`.
    static func undistributedOptimizers(of task: any TrainingTask) -> [String] {
        task.optimizers.filter { !($0.optimizer is DistributedOptimizer) }.map { "optimiser '\($0.name)' (\(type(of: $0.optimizer)))" }
    }

    public var checkpointedModules: [(name: String, module: any Module)] { inner.checkpointedModules }
    public var optimizers: [(name: String, optimizer: any Optimizer)] { inner.optimizers }

    public func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        let terms = try inner.step(batch, progress: progress)
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
