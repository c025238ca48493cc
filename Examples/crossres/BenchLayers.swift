import CrossRes

/// Diagnostic cases (no PyTorch workload of their own; `scripts/bench-layers-pytorch.py` times the
/// same on PyTorch's side): TinyResNet32's convolutions one at a time at batch 64, forward +
/// backward (input and weight gradients; the 3-channel stem has no input gradient), as W5b runs
/// them; W5c's frozen teacher alone, MobileFaceNet-32's eval forward at batch 64; and that
/// teacher's grouped and depthwise 3×3 and its 1×1 convolutions one at a time, forward without
/// gradients.
enum BenchLayers {
    /// TinyResNet32's convolutions: input channels, output channels, kernel, stride, input side.
    static let tinyResNet32: [(c: Int, o: Int, k: Int, s: Int, side: Int)] = [
        (3, 32, 3, 1, 32), (32, 32, 3, 1, 32), (32, 64, 3, 1, 32), (64, 64, 3, 2, 32), (32, 64, 1, 2, 32),
        (64, 128, 3, 1, 16), (128, 128, 3, 2, 16), (64, 128, 1, 2, 16), (128, 256, 3, 1, 8), (256, 256, 3, 2, 8),
        (128, 256, 1, 2, 8),
    ]

    /// MobileFaceNet-32's grouped (2 channels per group) and depthwise 3×3 convolutions: channels,
    /// groups, stride, input side.
    static let mobileFaceNet32Depthwise: [(c: Int, groups: Int, s: Int, side: Int)] = [
        (128, 64, 1, 32), (128, 128, 2, 32), (128, 128, 1, 16), (256, 256, 2, 16), (256, 256, 1, 8), (512, 512, 2, 8),
        (256, 256, 1, 4),
    ]

    /// MobileFaceNet-32's 1×1 convolutions: input channels, output channels, side, and how many
    /// of each the teacher runs.
    static let mobileFaceNet32Pointwise: [(c: Int, o: Int, side: Int, count: Int)] = [
        (128, 128, 32, 1), (128, 128, 16, 9), (128, 256, 16, 1), (256, 256, 8, 13), (256, 512, 8, 1), (512, 256, 4, 1),
        (256, 256, 4, 4), (256, 512, 4, 1),
    ]

    static func cases(batch: Int = 64) -> [BenchCase] {
        let layers = tinyResNet32.flatMap { l in
            let out = (l.side + 2 * (l.k / 2) - l.k) / l.s + 1
            let forward = 2.0 * Double(batch * l.o * out * out * l.c * l.k * l.k)
            let name = "\(l.c)→\(l.o) \(l.k)×\(l.k) s\(l.s) \(l.side)×\(l.side)"
            let id = "layers.tinyresnet32.\(l.c).\(l.o).k\(l.k).s\(l.s).\(l.side)"
            // The passes W5b runs (the stem has no input gradient), then the forward pass alone and
            // with the weight gradient alone: the differences are each gradient's share.
            let passes: [(suffix: String, variant: String, weightGradient: Bool, inputGradient: Bool)] =
                [("", "Tensor.conv2d", true, l.c != 3), (".forward", "forward only", false, false)]
                + (l.c == 3 ? [] : [(".dw", "forward + weight gradient only", true, false)])
            return passes.map { pass in
                BenchCase(id: id + pass.suffix, workload: "TinyResNet32 conv \(name) b\(batch) forward+backward", variant: pass.variant,
                          work: .items(Double(batch), unit: "img"), iterations: 10,
                          flops: Double(1 + (pass.weightGradient ? 1 : 0) + (pass.inputGradient ? 1 : 0)) * forward) {
                    var rng = RandomGenerator(seed: 0)
                    let x = Tensor.randomNormal([batch, l.c, l.side, l.side], using: &rng)
                    let input = pass.inputGradient ? x.trackingGradients() : x
                    let w = Tensor.randomNormal([l.o, l.c, l.k, l.k], using: &rng)
                    let weight = pass.weightGradient ? w.trackingGradients() : w
                    let convolution = { Tensor.conv2d(input, weight: weight, stride: Size2D(l.s, l.s), padding: Size2D(l.k / 2, l.k / 2)) }
                    guard pass.weightGradient else { return { withExtendedLifetime(withoutGradients(convolution)) {} } }
                    return { withExtendedLifetime(convolution().sum().backward(retaining: .leaves)) {} }
                }
            }
        }
        let teacherFlops = BenchTraining.flops(forwardMACs: BenchTraining.MACs.mobileFaceNet32, embedding: 1).forward
        let teacher = BenchCase(id: "layers.teacher.mobilefacenet32", workload: "W5c teacher MobileFaceNet-32 eval forward b\(batch)",
                                variant: "eval, no gradients", work: .items(Double(batch), unit: "img"), iterations: 10,
                                flops: teacherFlops * Double(batch)) {
            var rng = RandomGenerator(seed: 0)
            let model = MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32, layout: .benchmark), using: &rng).eval()
            let x = Tensor.randomNormal([batch, 3, 32, 32], using: &rng)
            return { withExtendedLifetime(withoutGradients { model(x) }) {} }
        }
        let depthwise = mobileFaceNet32Depthwise.map { l in
            let out = (l.side - 1) / l.s + 1
            let name = "\(l.c) channels, \(l.c / l.groups) per group, s\(l.s) \(l.side)×\(l.side)"
            return BenchCase(id: "layers.mobilefacenet32.dw.\(l.c).g\(l.groups).s\(l.s).\(l.side)",
                             workload: "MobileFaceNet-32 3×3 conv \(name) b\(batch) forward", variant: "Tensor.conv2d",
                             work: .items(Double(batch), unit: "img"), iterations: 20,
                             flops: 2.0 * Double(batch * l.c * (l.c / l.groups) * 9 * out * out)) {
                var rng = RandomGenerator(seed: 0)
                let x = Tensor.randomNormal([batch, l.c, l.side, l.side], using: &rng)
                let weight = Tensor.randomNormal([l.c, l.c / l.groups, 3, 3], using: &rng)
                return {
                    withExtendedLifetime(withoutGradients {
                        Tensor.conv2d(x, weight: weight, stride: Size2D(l.s, l.s), padding: 1, groups: l.groups)
                    }) {}
                }
            }
        }
        let pointwise = mobileFaceNet32Pointwise.map { l in
            BenchCase(id: "layers.mobilefacenet32.pw.\(l.c).\(l.o).\(l.side)",
                      workload: "MobileFaceNet-32 1×1 conv \(l.c)→\(l.o) \(l.side)×\(l.side) b\(batch) forward (×\(l.count))",
                      variant: "Tensor.conv2d", work: .items(Double(batch), unit: "img"), iterations: 20,
                      flops: 2.0 * Double(batch * l.c * l.o * l.side * l.side)) {
                var rng = RandomGenerator(seed: 0)
                let x = Tensor.randomNormal([batch, l.c, l.side, l.side], using: &rng)
                let weight = Tensor.randomNormal([l.o, l.c, 1, 1], using: &rng)
                return { withExtendedLifetime(withoutGradients { Tensor.conv2d(x, weight: weight) }) {} }
            }
        }
        return layers + [teacher] + depthwise + pointwise
    }
}
