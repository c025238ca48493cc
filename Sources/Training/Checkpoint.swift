import Foundation
import Tensor
import Layers
import Optim

/// A training checkpoint: every parameter and buffer of a task's modules, every optimiser's
/// state, and the step — one safetensors file (PyTorch-readable) with JSON-able metadata.
///
/// Tensor names are `<module>.<state-dict name>` (`student.conv1.weight`) and
/// `<optimiser>.<key>` (`optimizer.0.3.exp_avg`); metadata keys `crossres.step` and any
/// extra settings the caller records. Writes are atomic (temporary file, then rename), so a
/// crash while saving leaves the previous checkpoint intact.
public struct Checkpoint {
    public var step: Int
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// The state of `task` after `step` completed steps.
    public init(capturing task: any TrainingTask, step: Int, metadata: [String: String] = [:]) {
        var tensors: [String: Tensor] = [:]
        for (moduleName, module) in task.checkpointedModules {
            for (key, value) in module.stateDict() { tensors["\(moduleName).\(key)"] = value }
        }
        for (optimizerName, optimizer) in task.optimizers {
            for (key, value) in optimizer.stateDict() { tensors["\(optimizerName).\(key)"] = value }
        }
        self.step = step
        self.tensors = tensors
        self.metadata = metadata.merging(["crossres.step": String(step)]) { $1 }
    }

    /// Reads a checkpoint file.
    public init(contentsOf path: String) throws {
        let file: Safetensors
        do { file = try Safetensors(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TrainingError.badCheckpoint(path: path, reason: "\(error)")
        }
        guard let text = file.metadata["crossres.step"], let step = Int(text), step >= 0 else {
            throw TrainingError.badCheckpoint(path: path, reason: "no valid 'crossres.step' in its metadata (not a CrossRes checkpoint?)")
        }
        self.step = step
        tensors = file.tensors
        metadata = file.metadata
    }

    /// Writes the checkpoint atomically.
    public func write(to path: String) throws {
        try Safetensors(tensors: tensors, metadata: metadata).write(to: URL(fileURLWithPath: path))
    }

    /// Restores `task` from this checkpoint, strictly: every module's state dict must fit
    /// (missing, unexpected and mis-shaped keys are all named), every optimiser's state must
    /// load, and no entry may be left over. On failure the task is put back as it was.
    public func restore(_ task: any TrainingTask, path: String = "<checkpoint>") throws {
        let owners = task.checkpointedModules.map(\.name) + task.optimizers.map(\.name)
        var groups: [String: [String: Tensor]] = [:]
        for (key, value) in tensors {
            guard let owner = owners.first(where: { key.hasPrefix($0 + ".") }) else {
                throw TrainingError.badCheckpoint(path: path, reason: "unexpected entry '\(key)' (this run has \(owners.joined(separator: ", ")))")
            }
            groups[owner, default: [:]][String(key.dropFirst(owner.count + 1))] = value
        }
        let before = Checkpoint(capturing: task, step: step)
        do {
            for (name, module) in task.checkpointedModules {
                try module.load(stateDict: groups[name] ?? [:], source: "\(path) [\(name)]")
            }
            for (name, optimizer) in task.optimizers { try optimizer.load(stateDict: groups[name] ?? [:]) }
        } catch {
            try? before.restore(task)  // put back what was assigned before the failure
            throw TrainingError.badCheckpoint(path: path, reason: "\(error)")
        }
    }
}
