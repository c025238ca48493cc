import Tensor
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
    /// Rank 0's weights, buffers, optimiser state and dropout generators on every process;
    /// returns rank 0's `step`.
    func synchronise(_ task: any TrainingTask, step: Int) throws -> Int
    /// Collective (every process calls it with the same names): throws on every process unless
    /// each of `invariants` has the same value everywhere, naming what differs on which process
    /// (``RankInvariant/differences(_:)``) about `subject`, followed by `fix`.
    func ensureSame(_ invariants: [RankInvariant], of subject: String, fix: String) throws
    /// Makes every BatchNorm of `model` normalise with the global batch's statistics (synchronised
    /// BatchNorm); returns how many it set.
    @discardableResult
    func synchroniseBatchNorm(in model: any Module) -> Int
    /// The collectives of a decision common to every process, for the checks before and after
    /// the training loop that rank 0 alone makes (of the run folder, which it alone writes):
    /// ``ProcessAgreement/together(_:_:)``.
    var processAgreement: ProcessAgreement { get }
}

/// The collectives that keep a data-parallel step's decisions the same on every process: the
/// `Distributed` module's `DataParallelTask` makes one over its process group and exposes it as
/// ``current`` while its inner task's step runs, and as the wrapped task's
/// ``TrainingTask/processAgreement`` for ``TrainingLoop``. A decision taken from a shard's own
/// statistics (an ADDA encoder gate) or numbers (a NaN in one shard) would otherwise send the
/// ranks down different branches — different collectives, i.e. an MPI error or a hang.
///
/// Every closure is a **collective**: every process calls it at the same point of the same
/// step, in the same order. In a single process there is no agreement (`current` is `nil`), and
/// each value is its own mean and each local verdict final.
public struct ProcessAgreement: Sendable {
    /// This process's index (`0..<processCount`) and the number of processes.
    public let rank: Int
    public let processCount: Int
    /// The mean over the processes of each of `values` (every process passes as many; each
    /// process weighs equally, as its shard has the same size).
    public let mean: @Sendable (_ values: [Float]) throws -> [Float]
    /// Given this process's verdict — what is not finite, `nil` when healthy — every process's
    /// verdict combined: `nil` when every process is healthy, else the verdict of the lowest
    /// rank that failed, naming it (`"loss term 'mse' (nan) on rank 1"`, and the other ranks
    /// that failed). Every process gets the same answer.
    public let firstFailure: @Sendable (_ local: String?) throws -> String?
    /// Rank 0's `value` on every process (what rank 0 alone knows, e.g. its last checkpoint).
    public let rootValue: @Sendable (_ value: String?) throws -> String?
    /// Returns once every process has called it.
    public let barrier: @Sendable () throws -> Void

    public init(rank: Int, processCount: Int, mean: @escaping @Sendable ([Float]) throws -> [Float],
                firstFailure: @escaping @Sendable (String?) throws -> String?,
                rootValue: @escaping @Sendable (String?) throws -> String?, barrier: @escaping @Sendable () throws -> Void) {
        precondition(processCount >= 1 && (0..<processCount).contains(rank),
                     "ProcessAgreement: rank \(rank) of \(processCount) processes")
        self.rank = rank
        self.processCount = processCount
        self.mean = mean
        self.firstFailure = firstFailure
        self.rootValue = rootValue
        self.barrier = barrier
    }

    /// The agreement of the data-parallel step running on this thread (`nil`: one process).
    /// `DataParallelTask` binds it around its inner task's step, so the library's tasks read it
    /// where a decision must be common — ``DistillationTask``'s encoder gate, and every
    /// ``ensureFinite(_:)`` check, which then stops every process at the same check.
    @TaskLocal public static var current: ProcessAgreement?
}

extension ProcessAgreement {
    /// Runs `body` — on every process, which may check something on rank 0 alone (`if isRoot`:
    /// the run folder, a checkpoint only it reads) — and makes its failure every process's: a
    /// collective (``firstFailure``) follows it, so when `body` throws on one process the
    /// others throw too instead of going on into the next collective and waiting there forever.
    /// The process that failed rethrows its own error; every other process throws
    /// ``TrainingError/stoppedTogether(_:)`` with that error, quoted, and its rank (`"…" on rank
    /// 0`). Without an agreement (one process) `body` runs alone.
    public static func together<Value>(_ agreement: ProcessAgreement?, _ body: () throws -> Value) throws -> Value {
        guard let agreement else { return try body() }
        let outcome = Result { try body() }
        var local: String? = nil
        if case .failure(let error) = outcome { local = "\"\(error)\"" }
        if let agreed = try agreement.firstFailure(local), local == nil { throw TrainingError.stoppedTogether(agreed) }
        return try outcome.get()
    }
}
