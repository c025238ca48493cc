import Foundation
import Testing
import Tensor
@testable import Layers
import TestSupport

private func block(_ g: inout RandomGenerator) -> Sequential {
    Sequential(Conv2d(2, 3, kernelSize: 3, padding: 1, using: &g), BatchNorm2d(3), PReLU(3))
}

@Test func stateDictRoundTripsThroughSafetensors() throws {
    var g = RandomGenerator(seed: 71)
    let a = SmallFaceNet(embeddingSize: 16, widths: [4, 8, 8, 16], inputSize: 16, using: &g)
    _ = a(Tensor.randomNormal([4, 3, 16, 16], using: &g))  // move the running statistics
    let b = SmallFaceNet(embeddingSize: 16, widths: [4, 8, 8, 16], inputSize: 16, using: &g)
    let directory = try TemporaryDirectory.make("layers")
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("small.safetensors")
    try a.saveStateDict(to: url, metadata: ["model": "SmallFaceNet"])
    let report = try b.loadStateDict(from: url)
    #expect(report.isComplete && report.loaded.count == a.stateDict().count)
    let sa = a.stateDict(), sb = b.stateDict()
    #expect(sa.keys.sorted() == sb.keys.sorted())
    for key in sa.keys { #expect(sa[key]!.scalars == sb[key]!.scalars, "\(key)") }
    #expect(sb["stem.1.num_batches_tracked"]!.item == 1)
    a.eval(); b.eval()
    let x = Tensor.randomNormal([2, 3, 16, 16], using: &g)
    #expect(a(x).scalars == b(x).scalars)
    // Loaded parameters stay trainable leaves.
    let grads = b(x).sum().backward()
    #expect(grads[b.fc.weight] != nil)
}

@Test func strictLoadingNamesEveryBadKey() throws {
    var g = RandomGenerator(seed: 72)
    let model = block(&g)
    var state = model.stateDict()
    state["1.running_var"] = nil
    state["3.weight"] = Tensor([1])
    state["0.bias"] = Tensor([1, 2])
    let before = model.stateDict()["0.weight"]!.scalars
    state["0.weight"] = Tensor.zeros([3, 2, 3, 3])
    do {
        try model.load(stateDict: state)
        Issue.record("strict load of a bad state dict succeeded")
    } catch let error as StateDictError {
        let text = error.description
        #expect(text.contains("1.running_var") && text.contains("3.weight") && text.contains("0.bias"), "\(text)")
        #expect(text.contains("expected [3], found [2]"), "\(text)")
        #expect(error.report?.missing == ["1.running_var"] && error.report?.unexpected == ["3.weight"])
    }
    #expect(model.stateDict()["0.weight"]!.scalars == before)  // nothing assigned

    let report = try model.load(stateDict: state, strict: false)
    #expect(report.missing == ["1.running_var"] && report.unexpected == ["3.weight"] && report.mismatched.map(\.key) == ["0.bias"])
    #expect(report.loaded.contains("0.weight") && model.stateDict()["0.weight"]!.scalars.allSatisfy { $0 == 0 })
    #expect(report.description.contains("missing keys: 1.running_var"))
}

/// A state dict of another model lists the first ``StateDictReport/listedKeys`` keys of each
/// kind and how many there are (a wrong `--model` gave a one-line error of 6–13 KB); the
/// report keeps them all.
@Test func mismatchErrorsListTheFirstKeysAndTheCount() throws {
    var g = RandomGenerator(seed: 74)
    let model = block(&g)
    var state = model.stateDict()
    for i in 0..<25 { state[String(format: "extra%02d", i)] = Tensor([1]) }
    let error = #expect(throws: StateDictError.self) { try model.load(stateDict: state) }
    let text = error?.description ?? ""
    #expect(text.contains("unexpected keys: extra00, extra01, ") && text.contains(", extra09, … (25 in all)") && !text.contains("extra10"), "\(text)")
    #expect(error?.report?.unexpected.count == 25)
}

/// PyTorch loads state dicts without `num_batches_tracked` even strictly (converted MXNet/ONNX
/// weights lack it); a failed strict load does not claim to have loaded anything.
@Test func strictLoadingToleratesAMissingBatchCounter() throws {
    var g = RandomGenerator(seed: 73)
    let source = block(&g), model = block(&g)
    var state = source.stateDict()
    state["1.num_batches_tracked"] = nil
    let report = try model.load(stateDict: state)
    #expect(report.missing == ["1.num_batches_tracked"])
    #expect(model.stateDict()["1.running_mean"]!.scalars == source.stateDict()["1.running_mean"]!.scalars)
    #expect(model.stateDict()["1.num_batches_tracked"]!.item == 0)
    state["1.running_var"] = nil
    let error = #expect(throws: StateDictError.self) { try model.load(stateDict: state) }
    #expect(error?.description.contains("nothing loaded: missing keys: 1.running_var") == true, "\(String(describing: error))")
}

/// Arrays of arrays of modules were skipped whole: no parameters, no state-dict keys.
@Test func nestedArraysOfModulesAreFound() {
    final class Grid: Module {
        let blocks: [[Linear]]
        init(using g: inout RandomGenerator) { blocks = [[Linear(2, 2, using: &g)], [Linear(2, 3, using: &g), Linear(3, 1, using: &g)]] }
    }
    var g = RandomGenerator(seed: 74)
    #expect(Grid(using: &g).namedParameters().map(\.name)
            == ["blocks.0.0.weight", "blocks.0.0.bias", "blocks.1.0.weight", "blocks.1.0.bias", "blocks.1.1.weight", "blocks.1.1.bias"])
}

/// Dictionaries and tuples of modules were skipped whole: their parameters never trained or saved.
@Test func dictionariesAndTuplesOfModulesAreFound() {
    final class Heads: Module {
        let heads: [String: Linear]
        let pair: (Linear, Linear)
        let sizes = (3, 4)
        init(using g: inout RandomGenerator) {
            heads = ["z": Linear(2, 1, bias: false, using: &g), "a": Linear(2, 3, bias: false, using: &g)]
            pair = (Linear(1, 1, bias: false, using: &g), Linear(1, 2, bias: false, using: &g))
        }
    }
    var g = RandomGenerator(seed: 75)
    let model = Heads(using: &g)
    #expect(model.namedParameters().map(\.name) == ["heads.a.weight", "heads.z.weight", "pair.0.weight", "pair.1.weight"])
    #expect(model.stateDict()["heads.a.weight"]?.shape == [3, 2])
}

@Test func loadingACorruptFileThrows() throws {
    var g = RandomGenerator(seed: 73)
    let directory = try TemporaryDirectory.make("layers")
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("bad.safetensors")
    try Data([1, 2, 3]).write(to: url)
    #expect(throws: (any Error).self) { try block(&g).loadStateDict(from: url) }
}

/// PyTorch-layout state dict written by numpy (int64 `num_batches_tracked`), read by us; ours
/// read back by Python.
@Test(.enabled(if: Python.has("numpy", "safetensors.numpy"), "python3 with numpy and safetensors is not installed: skipping interchange"))
func stateDictInterchangeWithPython() throws {
    let directory = try TemporaryDirectory.make("layers")
    defer { try? FileManager.default.removeItem(at: directory) }
    let theirs = directory.appendingPathComponent("theirs.safetensors"), ours = directory.appendingPathComponent("ours.safetensors")
    let write = """
    import sys, numpy as np
    from safetensors.numpy import save_file
    r = np.arange
    save_file({"0.weight": (r(54, dtype=np.float32) / 100).reshape(3, 2, 3, 3), "0.bias": np.array([1, 2, 3], np.float32),
               "1.weight": np.array([1.5, 2, 2.5], np.float32), "1.bias": np.zeros(3, np.float32),
               "1.running_mean": np.array([0.1, 0.2, 0.3], np.float32), "1.running_var": np.array([1, 2, 3], np.float32),
               "1.num_batches_tracked": np.array(7, np.int64), "2.weight": np.array([0.1, 0.2, 0.3], np.float32)}, sys.argv[1])
    """
    try Python.run(write, arguments: [theirs.path])
    var g = RandomGenerator(seed: 74)
    let model = block(&g)
    try model.loadStateDict(from: theirs)
    let bn = model[1] as! BatchNorm2d
    #expect(bn.numBatchesTracked!.value.item == 7 && bn.runningVar!.value.scalars == [1, 2, 3])
    #expect((model[0] as! Conv2d).weight.value[2, 1, 2, 2] == Float(53) / 100)
    try model.saveStateDict(to: ours)
    let read = """
    import sys, numpy as np
    from safetensors.numpy import load_file
    a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    for k in a:
        assert a[k].shape == b[k].shape and np.allclose(a[k].astype(np.float64), b[k].astype(np.float64)), k
    print(b["1.num_batches_tracked"].dtype)
    """
    try Python.run(read, arguments: [theirs.path, ours.path])
}
