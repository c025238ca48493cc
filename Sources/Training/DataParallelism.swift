import Layers
import Optim

/// How a run is spread over processes — implemented by the `Distributed` module's
/// `ProcessGroup` (the Training module does not link MPI).
public protocol DataParallelism {
    /// Whether this process is rank 0, the one that logs and writes the run folder.
    var isRoot: Bool { get }
    /// How many processes share each global batch (each gets `batch / processCount` samples).
    var processCount: Int { get }
    /// `optimizer` with its gradients averaged over the processes before each step.
    func distribute(_ optimizer: any Optimizer) throws -> any Optimizer
    /// `task` with its buffers (BatchNorm statistics) and loss terms averaged after each step.
    func distribute(_ task: any TrainingTask) -> any TrainingTask
    /// This process's shard of every global batch.
    func shard(_ batches: any BatchProvider) throws -> any BatchProvider
    /// Rank 0's weights, buffers and optimiser state on every process; returns rank 0's `step`.
    func synchronise(_ task: any TrainingTask, step: Int) throws -> Int
    /// Collective (every process calls it with the same names): throws on every process unless
    /// each of `invariants` has the same value everywhere, naming what differs on which process
    /// (``RankInvariant/differences(_:)``) about `subject`, followed by `fix`.
    func ensureSame(_ invariants: [RankInvariant], of subject: String, fix: String) throws
    /// Makes every BatchNorm of `model` normalise with the global batch's statistics (synchronised
    /// BatchNorm); returns how many it set.
    @discardableResult
    func synchroniseBatchNorm(in model: any Module) -> Int
}
