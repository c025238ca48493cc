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
            for (name, parameter) in module.namedParameters() { tensors["\(moduleName).\(name)"] = parameter.value.detached() }
            for (name, buffer) in module.namedBuffers() { tensors["\(moduleName).\(name)"] = buffer.value }
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

    /// Restores `task` from this checkpoint, strictly: every parameter, buffer and optimiser
    /// entry must be present with the right shape, and nothing may be left over. The error
    /// lists every missing, unexpected and mis-shaped name.
    public func restore(_ task: any TrainingTask, path: String = "<checkpoint>") throws {
        var remaining = tensors
        var missing: [String] = [], misshaped: [String] = []
        var assignments: [() -> Void] = []
        for (moduleName, module) in task.checkpointedModules {
            for (name, parameter) in module.namedParameters() {
                let key = "\(moduleName).\(name)"
                guard let value = remaining.removeValue(forKey: key) else { missing.append(key); continue }
                guard value.shape == parameter.shape else { misshaped.append("\(key) \(value.shape) ≠ \(parameter.shape)"); continue }
                assignments.append { parameter.value = value }
            }
            for (name, buffer) in module.namedBuffers() {
                let key = "\(moduleName).\(name)"
                guard let value = remaining.removeValue(forKey: key) else { missing.append(key); continue }
                guard value.shape == buffer.shape else { misshaped.append("\(key) \(value.shape) ≠ \(buffer.shape)"); continue }
                assignments.append { buffer.value = value }
            }
        }
        var optimizerStates: [(any Optimizer, [String: Tensor])] = []
        for (optimizerName, optimizer) in task.optimizers {
            let prefix = optimizerName + "."
            let keys = remaining.keys.filter { $0.hasPrefix(prefix) }
            var state: [String: Tensor] = [:]
            for key in keys { state[String(key.dropFirst(prefix.count))] = remaining.removeValue(forKey: key) }
            optimizerStates.append((optimizer, state))
        }
        let unexpected = remaining.keys.sorted()
        guard missing.isEmpty, misshaped.isEmpty, unexpected.isEmpty else {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing \(missing.sorted().joined(separator: ", "))") }
            if !misshaped.isEmpty { problems.append("wrong shape \(misshaped.sorted().joined(separator: "; "))") }
            if !unexpected.isEmpty { problems.append("unexpected \(unexpected.joined(separator: ", "))") }
            throw TrainingError.badCheckpoint(path: path, reason: "does not fit this run: " + problems.joined(separator: "; "))
        }
        for (optimizer, state) in optimizerStates {
            do { try optimizer.load(stateDict: state) } catch {
                throw TrainingError.badCheckpoint(path: path, reason: "\(error)")
            }
        }
        for assign in assignments { assign() }
    }
}
