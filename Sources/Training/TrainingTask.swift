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
    /// Runs one step on `batch` at training progress `progress ∈ [0, 1]` and returns the
    /// named loss terms it computed. Throws ``TrainingError/nonFinite(step:what:lastCheckpoint:)``
    /// *before* updating anything when a term is NaN or infinite.
    func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)]
}

/// Stops a step whose loss terms are not finite, naming the first bad term.
func ensureFinite(_ terms: [(name: String, value: Float)]) throws {
    if let bad = terms.first(where: { !$0.value.isFinite }) {
        throw TrainingError.nonFinite(step: -1, what: "loss term '\(bad.name)' (\(bad.value))", lastCheckpoint: nil)
    }
}

/// Stops a step whose gradients are not finite, naming the first bad parameter.
func ensureFinite(_ gradients: Gradients, of parameters: [(name: String, parameter: Parameter)]) throws {
    for (name, parameter) in parameters {
        guard let g = gradients[parameter] else { continue }
        let finite = g.withUnsafeBufferPointer { buffer in buffer.allSatisfy(\.isFinite) }
        if !finite { throw TrainingError.nonFinite(step: -1, what: "gradient of '\(name)'", lastCheckpoint: nil) }
    }
}
