import Foundation
import Testing
import Tensor
@testable import Layers
import TestSupport

/// The team's PyTorch reference definitions (`../shared/bench/pytorch/models.py` relative to the
/// package root), read at test time.
private let modelsPath = SharedData.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/bench/pytorch/models.py")

private let torchAvailable = Python.has("torch", "safetensors.torch") && FileManager.default.fileExists(atPath: modelsPath.path)

/// Writes, for each network, its randomised state dict, an input, the eval-mode output, the
/// training-mode output and the state dict after that training-mode step.
private let exportScript = """
import sys, importlib.util, torch, torch.nn as nn
from safetensors.torch import save_file
spec = importlib.util.spec_from_file_location("models", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
torch.manual_seed(0)
for name, net in [("mbf32", m.MobileFaceNet(input_size=32)), ("tiny", m.TinyResNet32())]:
    with torch.no_grad():
        for mod in net.modules():
            if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
                mod.running_mean.uniform_(-0.1, 0.1); mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.1, 0.1); mod.num_batches_tracked.fill_(3)
            elif isinstance(mod, nn.PReLU):
                mod.weight.uniform_(0.1, 0.4)
    state = {k: v.clone().contiguous() for k, v in net.state_dict().items()}
    x = torch.randn(3, 3, 32, 32)
    net.eval(); y = net(x).detach()
    net.train(); y_train = net(x).detach()
    save_file(state, f"{sys.argv[2]}/{name}.safetensors")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, f"{sys.argv[2]}/{name}-after.safetensors")
    save_file({"input": x, "eval": y, "train": y_train}, f"{sys.argv[2]}/{name}-io.safetensors")
"""

private func expectClose(_ a: Tensor, _ b: Tensor, _ what: String, tolerance: Float = 1e-4) {
    #expect(a.shape == b.shape, "\(what): shapes \(a.shape) vs \(b.shape)")
    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
    #expect(worst < tolerance, "\(what): max relative difference \(worst)")
}

@Test(.enabled(if: torchAvailable, "torch (or ../shared/bench/pytorch/models.py) is not available: skipping the PyTorch cross-check"))
func pytorchStateDictsLoadStrictlyAndAgree() throws {
    let directory = try TemporaryDirectory.make("layers")
    defer { try? FileManager.default.removeItem(at: directory) }
    try Python.run(exportScript, arguments: [modelsPath.path, directory.path])
    var g = RandomGenerator(seed: 81)
    let models: [(String, any FeatureExtractor)] = [
        ("mbf32", MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32, layout: .benchmark), using: &g)),
        ("tiny", TinyResNet32(using: &g)),
    ]
    for (name, model) in models {
        try model.loadStateDict(from: directory.appendingPathComponent("\(name).safetensors"))
        let io = try Safetensors(contentsOf: directory.appendingPathComponent("\(name)-io.safetensors")).tensors
        model.eval()
        expectClose(withoutGradients { model(io["input"]!) }, io["eval"]!, "\(name) eval embedding")
        model.train()
        // Batch statistics over 3 samples (BatchNorm1d) amplify float rounding: a looser bound.
        expectClose(withoutGradients { model(io["input"]!) }, io["train"]!, "\(name) training-mode embedding", tolerance: 1e-3)
        let after = try Safetensors(contentsOf: directory.appendingPathComponent("\(name)-after.safetensors")).tensors
        let ours = model.stateDict()
        for key in after.keys where key.contains("running") || key.contains("num_batches") {
            expectClose(ours[key]!, after[key]!, "\(name) \(key)")
        }
    }
}
