import Foundation
import Tensor

/// What a state-dict load did: keys loaded and keys skipped, by kind.
public struct StateDictReport: CustomStringConvertible, Sendable {
    /// Keys whose values were assigned.
    public var loaded: [String] = []
    /// Keys of the module absent from the state dict (left unchanged).
    public var missing: [String] = []
    /// Keys of the state dict the module does not have (ignored).
    public var unexpected: [String] = []
    /// Keys present on both sides with different shapes (left unchanged).
    public var mismatched: [(key: String, expected: [Int], found: [Int])] = []

    /// Whether every key matched.
    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public var description: String { (["loaded \(loaded.count) tensors"] + findings).joined(separator: "; ") }

    /// Keys listed of each kind in ``description`` and errors (a wrong model would list
    /// hundreds); the report's arrays hold them all.
    public static let listedKeys = 10

    /// What did not match, one entry per kind: its first ``listedKeys`` keys, then how many
    /// there are in all.
    var findings: [String] {
        func listed(_ entries: [String]) -> String {
            let shown = entries.prefix(Self.listedKeys).joined(separator: ", ")
            return entries.count > Self.listedKeys ? shown + ", … (\(entries.count) in all)" : shown
        }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: \(listed(missing))") }
        if !unexpected.isEmpty { parts.append("unexpected keys: \(listed(unexpected))") }
        if !mismatched.isEmpty {
            parts.append("shape mismatches: " + listed(mismatched.map { "\($0.key) (expected \($0.expected), found \($0.found))" }))
        }
        return parts
    }
}

/// A state dict that does not fit a module (strict loading), or a file that cannot be read.
public struct StateDictError: Error, CustomStringConvertible {
    /// Where the state dict came from (a path, or `"<memory>"`).
    public let source: String
    public let problem: String
    /// The key-level findings, when the problem is a mismatch.
    public let report: StateDictReport?

    public var description: String { "\(source): \(problem)" }
}

/// PyTorch-compatible state dicts: every parameter and buffer by its dotted name, saved and
/// loaded as safetensors. Names and layouts equal those of the PyTorch definitions the zoo
/// follows, so `torch.save`-free interchange works both ways:
///
/// ```python
/// from safetensors.torch import save_file
/// save_file(model.state_dict(), "model.safetensors")      # PyTorch → CrossRes
/// model.load_state_dict(load_file("ours.safetensors"))     # CrossRes → PyTorch
/// ```
///
/// BatchNorm's `num_batches_tracked` is an int64 buffer in PyTorch; it is held as a float here
/// (exact below 2²⁴ batches), read from any integer or float dtype and marked int64 when written.
extension Module {
    /// Every parameter and buffer value by name (constants, cut from the tape).
    public func stateDict() -> [String: Tensor] {
        var state: [String: Tensor] = [:]
        for (name, parameter) in ModuleReflection.reflectedParameters(of: self) { state[name] = parameter.value.detached() }
        for (name, buffer) in namedBuffers() { state[name] = buffer.value }
        return state
    }

    /// Assigns the values of `stateDict` to the parameters and buffers of the same names.
    ///
    /// Strict (the default): any missing, unexpected or shape-mismatched key throws a
    /// ``StateDictError`` naming all of them, and nothing is assigned. Non-strict: every key
    /// that matches is assigned, the rest is skipped and listed in the returned report.
    ///
    /// A missing BatchNorm `num_batches_tracked` is not an error even when strict (PyTorch
    /// accepts state dicts without it, as converted MXNet/ONNX weights often are): the counter
    /// keeps its value and the key is listed under ``StateDictReport/missing``.
    @discardableResult
    public func load(stateDict: [String: Tensor], strict: Bool = true, source: String = "<memory>") throws -> StateDictReport {
        var targets: [String: (shape: [Int], assign: (Tensor) -> Void)] = [:]
        for (name, parameter) in ModuleReflection.reflectedParameters(of: self) {
            targets[name] = (parameter.shape, { parameter.value = $0 })
        }
        for (name, buffer) in namedBuffers() { targets[name] = (buffer.shape, { buffer.value = $0 }) }

        var report = StateDictReport()
        report.missing = targets.keys.filter { stateDict[$0] == nil }.sorted()
        report.unexpected = stateDict.keys.filter { targets[$0] == nil }.sorted()
        for name in stateDict.keys.sorted() {
            guard let target = targets[name], let value = stateDict[name] else { continue }
            // A scalar saved as [1] (or the reverse) is the same value.
            if value.shape == target.shape || (value.count == 1 && Shape.count(target.shape) == 1) {
                report.loaded.append(name)
            } else {
                report.mismatched.append((name, target.shape, value.shape))
            }
        }
        var blocking = report
        blocking.missing.removeAll { $0 == "num_batches_tracked" || $0.hasSuffix(".num_batches_tracked") }
        if strict && !blocking.isComplete {
            throw StateDictError(source: source, problem: "state dict does not match \(type(of: self)), nothing loaded: "
                                     + blocking.findings.joined(separator: "; "), report: report)
        }
        for name in report.loaded {
            targets[name]!.assign(stateDict[name]!.detached().reshaped(to: targets[name]!.shape))
        }
        return report
    }

    /// Writes ``stateDict()`` as a safetensors file, atomically (temporary file, then rename).
    public func saveStateDict(to url: URL, metadata: [String: String] = [:]) throws {
        var file = Safetensors(tensors: stateDict(), metadata: metadata)
        for name in file.tensors.keys where name.hasSuffix("num_batches_tracked") { file.dtypes[name] = .i64 }
        try file.write(to: url)
    }

    /// Reads a safetensors file and loads it (see ``load(stateDict:strict:source:)``).
    @discardableResult
    public func loadStateDict(from url: URL, strict: Bool = true) throws -> StateDictReport {
        let file = try Safetensors(contentsOf: url)
        return try load(stateDict: file.tensors, strict: strict, source: url.path)
    }
}
