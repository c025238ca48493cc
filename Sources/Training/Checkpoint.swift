import Foundation
import Tensor
import Layers
import Optim

/// A training checkpoint: every parameter and buffer of a task's modules, every optimiser's
/// state, and the step — one safetensors file (PyTorch-readable) with JSON-able metadata.
///
/// Tensor names are `<module>.<state-dict name>` (`student.conv1.weight`) and
/// `<optimiser>.<key>` (`optimizer.0.3.exp_avg`); metadata keys `crossres.step`,
/// `crossres.checksum` (see ``CheckpointChecksum``), `crossres.generators` (the streams of the
/// modules' dropout layers, ``RandomizedModule``, by `<module>.<name>`, when there are any) and any
/// extra settings the caller records.
///
/// Crash safety: a write goes to a temporary file in the same folder, is flushed to disk
/// (`fsync`), renamed over the destination, and the folder itself is flushed, so a crash or
/// `SIGKILL` at any moment leaves either the previous checkpoint or the new one, never a mix.
/// Reading verifies the checksum, so a truncated, bit-flipped or half-copied file is rejected
/// with an error naming it instead of resuming from garbage.
public struct Checkpoint {
    public var step: Int
    public var tensors: [String: Tensor]
    public var metadata: [String: String]

    /// How a read treats the stored checksum.
    public enum Verification: Sendable {
        /// A file without `crossres.checksum` is rejected (the default: every checkpoint this
        /// version writes has one, and a bit flip in the key's name must not disable the check).
        case required
        /// A file without a checksum (written before checksums existed) loads unverified; one
        /// with a checksum is still verified.
        case ifPresent
    }

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
        var metadata = metadata
        metadata[Self.stepKey] = String(step)
        let generators = Self.randomizedModules(of: task).mapValues { $0.generator.state.map { String($0, radix: 16) } }
        metadata[Self.generatorsKey] = generators.isEmpty ? nil : Self.jsonText(generators)  // (never a caller's stale copy)
        self.metadata = metadata
    }

    /// Metadata key of the step.
    static let stepKey = "crossres.step"
    /// Metadata key of the dropout layers' generators: a JSON object, `<module>.<name>` to the
    /// four state words in hexadecimal.
    package static let generatorsKey = "crossres.generators"

    /// The task's modules that draw random numbers, by `<module>.<name>` (a shared one once per
    /// name).
    private static func randomizedModules(of task: any TrainingTask) -> [String: any RandomizedModule] {
        var modules: [String: any RandomizedModule] = [:]
        for (moduleName, module) in task.checkpointedModules {
            for (name, randomized) in module.namedRandomizedModules() {
                modules[name.isEmpty ? moduleName : moduleName + "." + name] = randomized
            }
        }
        return modules
    }

    private static func jsonText(_ generators: [String: [String]]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: generators, options: [.sortedKeys])  // strings only: cannot fail
        return String(decoding: data, as: UTF8.self)
    }

    /// The generators stored in ``generatorsKey`` for the task's ``RandomizedModule``s, checked
    /// strictly (none missing, none unknown, each a valid state); none from a checkpoint without
    /// the key (written before generators were saved: the streams stay as they are).
    private func storedGenerators(for task: any TrainingTask) throws -> [(module: any RandomizedModule, generator: RandomGenerator)] {
        let modules = Self.randomizedModules(of: task)
        guard let text = metadata[Self.generatorsKey] else { return [] }  // (an earlier version's checkpoint: streams left as they are)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let stored = object as? [String: [String]] else {
            throw CheckpointError("'\(Self.generatorsKey)' is not a JSON object of state words")
        }
        if let unknown = stored.keys.sorted().first(where: { modules[$0] == nil }) {
            throw CheckpointError("unexpected generator '\(unknown)' (this run's dropout layers: \(modules.isEmpty ? "none" : modules.keys.sorted().joined(separator: ", ")))")
        }
        return try modules.keys.sorted().map { name in
            guard let words = stored[name] else { throw CheckpointError("no generator for '\(name)' in '\(Self.generatorsKey)'") }
            let state = words.compactMap { UInt64($0, radix: 16) }
            guard state.count == words.count && RandomGenerator.isValid(state) else {
                throw CheckpointError("the generator of '\(name)' is not four hexadecimal words, not all zero: \(words)")
            }
            return (modules[name]!, RandomGenerator(state: state))
        }
    }

    /// An error of ``restore(_:path:)`` before it is given the checkpoint's path.
    private struct CheckpointError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads a checkpoint file and verifies its checksum.
    public init(contentsOf path: String, verification: Verification = .required) throws {
        let file: Safetensors
        do { file = try Safetensors(contentsOf: URL(fileURLWithPath: path)) } catch let error as SafetensorsError {
            throw TrainingError.badCheckpoint(path: path, reason: "corrupt or unreadable: \(error.problem)")
        } catch {
            throw TrainingError.badCheckpoint(path: path, reason: "\(error)")
        }
        if let stored = file.metadata[CheckpointChecksum.key] {
            let actual = CheckpointChecksum.compute(tensors: file.tensors, metadata: file.metadata)
            guard stored == actual else {
                throw TrainingError.badCheckpoint(path: path, reason: "checksum mismatch (stored \(stored), content \(actual)): the file is corrupt; resume from an earlier copy")
            }
        } else if verification == .required {
            throw TrainingError.badCheckpoint(path: path, reason: "no '\(CheckpointChecksum.key)' in its metadata, so its integrity cannot be verified (a file from an older CrossRes, or a damaged header); load it with verification .ifPresent if you trust it")
        }
        guard let text = file.metadata[Self.stepKey], let step = Int(text), step >= 0 else {
            throw TrainingError.badCheckpoint(path: path, reason: "no valid '\(Self.stepKey)' in its metadata (not a CrossRes checkpoint?)")
        }
        self.step = step
        tensors = file.tensors
        metadata = file.metadata
    }

    /// The first entry (in name order) holding a NaN or an infinity, if any.
    public var firstNonFiniteEntry: String? {
        tensors.keys.sorted().first { !isAllFinite(tensors[$0]!) }
    }

    /// Writes the checkpoint crash-safely (temporary file, `fsync`, rename, `fsync` of the
    /// folder) with its checksum, then removes temporary files that killed saves left behind.
    public func write(to path: String) throws {
        var metadata = self.metadata
        metadata[CheckpointChecksum.key] = CheckpointChecksum.compute(tensors: tensors, metadata: metadata)
        let url = URL(fileURLWithPath: path)
        do {
            try Safetensors(tensors: tensors, metadata: metadata).write(to: url)
        } catch let error as SafetensorsError {
            throw TrainingError.badCheckpoint(path: path, reason: "cannot write: \(error.problem)")
        }
        let folder = url.deletingLastPathComponent().path
        Self.synchronizeFolder(folder)
        Self.removeStaleTemporaryFiles(of: url.lastPathComponent, in: folder)
    }

    /// Flushes a folder's entries (the rename) to disk; file systems that cannot are ignored.
    private static func synchronizeFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// Deletes `.<name>.*.tmp` in `folder`: what ``Safetensors/write(to:)`` leaves when the
    /// process dies mid-save (one run writes a checkpoint at a time, so none is live here).
    private static func removeStaleTemporaryFiles(of name: String, in folder: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix("." + name + ".") && entry.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(entry))
        }
    }

    /// Restores `task` from this checkpoint, strictly: every module's state dict must fit
    /// (missing, unexpected and mis-shaped keys are all named), every optimiser's state must
    /// load, no entry may be left over, and the stored generators must be those of the task's
    /// dropout layers (a checkpoint without them leaves the streams as they are). On failure the
    /// task is put back as it was.
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
            for (module, generator) in try storedGenerators(for: task) { module.generator = generator }
        } catch {
            try? before.restore(task)  // put back what was assigned before the failure
            throw TrainingError.badCheckpoint(path: path, reason: "\(error)")
        }
    }
}
