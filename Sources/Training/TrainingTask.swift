import Tensor
import Layers
import Optim

/// What a trainer runs: one optimisation step per batch, and the state that a checkpoint
/// must hold to resume it exactly.
public protocol TrainingTask: AnyObject {
    /// Modules whose parameters and buffers are checkpointed, by name (`"student"`, `"head"`).
    var checkpointedModules: [(name: String, module: any Module)] { get }
    /// Optimisers whose state is checkpointed, by name.
    var optimizers: [(name: String, optimizer: any Optimizer)] { get }
    /// Runs one step on `batch` at training progress `progress ∈ [0, 1]` (``TrainingLoop`` passes
    /// `step/(steps − 1)`: 0 at the first step, 1 at the last) and returns the
    /// named loss terms it computed. Throws ``TrainingError/nonFinite(step:what:lastCheckpoint:)``
    /// before an optimiser applies an update when a loss term or a gradient is NaN or infinite
    /// (the loop checks parameters and buffers after the step); check with ``ensureFinite(_:)``
    /// and ``ensureFinite(_:updatedBy:in:)``, which in a data-parallel step stop every process
    /// at the same check (``ProcessAgreement``).
    func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)]
    /// How the processes running this task together take the same stop decisions (the
    /// `Distributed` module's `DataParallelTask` returns its group's); `nil`, the default, for a
    /// task run by one process. ``TrainingLoop`` uses it to stop every process at the same step
    /// with the same ``TrainingError/nonFinite(step:what:lastCheckpoint:)``.
    var processAgreement: ProcessAgreement? { get }
}

extension TrainingTask {
    public var processAgreement: ProcessAgreement? { nil }
}

/// Throws ``TrainingError/invalidConfiguration(_:)`` when a batch of images of shape `shape` is
/// not what `network` takes (its ``FeatureExtractor/inputShape``): a loader of another size,
/// channel count or LR view (no `up=`) than the network's, which its forward pass would stop the
/// program on. `role` says which network and images (`"the student on the LR views"`). The shapes
/// are the configuration's, the same on every process of a data-parallel step, so it is no
/// collective.
public func ensureInputShape(_ shape: [Int], fits network: any FeatureExtractor, role: String) throws {
    guard let mismatch = network.inputMismatch(shape) else { return }
    throw TrainingError.invalidConfiguration("\(role): \(mismatch); make the loader's images the size and channels the network takes (hrSize, channels, the degradation's up=)")
}

/// Runs `check` — e.g. a transfer loss's ``TransferLoss/check(_:)`` or a head's
/// ``MarginHead/check(embeddingShape:labels:)`` on the step's features — and turns what it
/// throws into ``TrainingError/invalidConfiguration(_:)``: inputs a loss would stop the program
/// on (a missing feature map, mismatched dimensions, a label beyond the head's classes) end the
/// run with an error instead. In a data-parallel step (``ProcessAgreement/current`` set) it is a
/// collective, like ``ensureFinite(_:)``: every process throws the lowest failing rank's error
/// as soon as one process's check throws.
public func ensureInputsFit(_ check: () throws -> Void) throws {
    var local: String? = nil
    do { try check() } catch { local = "\(error)" }
    let failure = try ProcessAgreement.current.map { try $0.firstFailure(local) } ?? local
    if let failure { throw TrainingError.invalidConfiguration(failure) }
}
