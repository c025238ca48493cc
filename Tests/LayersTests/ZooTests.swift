import Testing
import Tensor
@testable import Layers

// Expected parameter counts by formula, as the PyTorch definitions compute them
// (conv: out·in/groups·k², BatchNorm: 2C (γ, β; buffers excluded), PReLU: C, linear: out·in + bias).
private func conv(_ cin: Int, _ cout: Int, _ k: Int, groups: Int = 1) -> Int { cout * (cin / groups) * k * k }
private func convBlock(_ cin: Int, _ cout: Int, _ k: Int, groups: Int = 1) -> Int { conv(cin, cout, k, groups: groups) + 3 * cout }
private func linearBlock(_ cin: Int, _ cout: Int, _ k: Int, groups: Int = 1) -> Int { conv(cin, cout, k, groups: groups) + 2 * cout }
private func depthWise(_ cin: Int, _ cout: Int, _ e: Int) -> Int {
    convBlock(cin, e, 1) + convBlock(e, e, 3, groups: e) + linearBlock(e, cout, 1)
}

private func mobileFaceNetCount(scale: Int = 2, blocks: [Int] = [1, 4, 6, 2], embedding: Int = 512, final: Int = 7) -> Int {
    let c1 = 64 * scale, c2 = 128 * scale
    var total = convBlock(3, c1, 3) + convBlock(c1, c1, 3, groups: 64)
    total += depthWise(c1, c1, 128) + blocks[1] * depthWise(c1, c1, 128)
    total += depthWise(c1, c2, 256) + blocks[2] * depthWise(c2, c2, 256)
    total += depthWise(c2, c2, 512) + blocks[3] * depthWise(c2, c2, 256)
    total += convBlock(c2, 512, 1) + linearBlock(512, 512, final, groups: 512) + 512 * embedding + 2 * embedding
    return total
}

private func iresnetCount(_ layers: [Int], side: Int, embedding: Int = 512) -> Int {
    var total = conv(3, 64, 3) + 3 * 64, inPlanes = 64
    for (planes, blocks) in zip([64, 128, 256, 512], layers) {
        for b in 0..<blocks {
            let cin = b == 0 ? inPlanes : planes
            total += 2 * cin + conv(cin, planes, 3) + 3 * planes + conv(planes, planes, 3) + 2 * planes
            if b == 0 { total += conv(cin, planes, 1) + 2 * planes }  // stride-2 downsample
        }
        inPlanes = planes
    }
    return total + 2 * 512 + 512 * side * side * embedding + embedding + 2 * embedding
}

@Test func mobileFaceNetMatchesInsightfaceCount() {
    var g = RandomGenerator(seed: 1)
    let model = MobileFaceNet(.mbf, using: &g)
    #expect(mobileFaceNetCount() == 2_059_520)
    #expect(model.parameterCount == mobileFaceNetCount())
    let small = MobileFaceNet(.mbf32, using: &g)
    #expect(small.parameterCount == mobileFaceNetCount(final: 4))
    // Names: insightface layout.
    let names = model.namedParameters().map(\.name)
    #expect(names.first == "layers.0.layers.0.weight")
    #expect(names.contains("layers.3.layers.0.layers.1.layers.0.weight"))
    #expect(names.contains("conv_sep.layers.2.weight"))
    #expect(Array(names.suffix(3)) == ["features.layers.2.weight", "features.layers.3.weight", "features.layers.3.bias"])
    #expect(model.namedBuffers().map(\.name).contains("layers.7.layers.1.layers.2.layers.1.running_var"))
}

/// insightface's conv2_dw has 64 groups whatever the scale (a helper's parity check found
/// `c1 / 2` groups, equal only at scale 2); counts from arcface_torch's `MobileFaceNet(scale:)`.
@Test func mobileFaceNetScalesKeepSixtyFourGroups() {
    var g = RandomGenerator(seed: 2)
    for (scale, shape, count) in [(1, [64, 1, 3, 3], 1_200_512), (2, [128, 2, 3, 3], 2_059_520), (4, [256, 4, 3, 3], 3_780_992)] {
        var c = MobileFaceNet.Configuration.mbf
        c.scale = scale
        let model = MobileFaceNet(c, using: &g)
        let weight = model.namedParameters().first { $0.name == "layers.1.layers.0.weight" }
        #expect(weight?.parameter.value.shape == shape, "scale \(scale)")
        #expect(model.parameterCount == count, "scale \(scale)")
    }
}

@Test func mobileFaceNet32ShapesAndBenchmarkLayout() {
    var g = RandomGenerator(seed: 2)
    let model = MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32, layout: .benchmark), using: &g)
    model.eval()
    let f = withoutGradients { model.features(Tensor.randomNormal([1, 3, 32, 32], using: &g)) }
    #expect(f.embedding.shape == [1, 512])
    #expect(f.maps["stage1"]?.shape == [1, 128, 32, 32] && f.maps["stage2"]?.shape == [1, 128, 16, 16])
    #expect(f.maps["stage3"]?.shape == [1, 256, 8, 8] && f.maps["stage4"]?.shape == [1, 256, 4, 4])
    #expect(f.maps["stage5"]?.shape == [1, 512, 4, 4])
    let names = model.namedParameters().map(\.name)
    #expect(names.first == "body.0.0.weight" && names.contains("body.3.0.layers.1.0.weight"))
    #expect(names.contains("body.8.0.weight") && names.contains("gdc.0.weight") && names.contains("fc.weight"))
    #expect(model.namedBuffers().map(\.name).last == "bn.num_batches_tracked")
    // The width multiplier shrinks every stage.
    let half = MobileFaceNet(MobileFaceNet.Configuration(embeddingSize: 64, inputSize: 32, widthMultiplier: 0.5), using: &g)
    #expect(half.parameterCount < model.parameterCount / 3)
    half.eval()
    #expect(withoutGradients { half(Tensor.zeros([1, 3, 32, 32]) ) }.shape == [1, 64])
}

/// The stem stride follows the input size unless set: `.mbf` changed to 32 pixels built a
/// 2×2-GDC network instead of the 32×32 variant.
@Test func stemStrideFollowsTheInputSize() {
    var c = MobileFaceNet.Configuration.mbf
    c.inputSize = 32
    #expect(c.stemStride == 1 && c.finalSize == 4 && c.finalSize == MobileFaceNet.Configuration.mbf32.finalSize)
    c.stemStride = 2
    c.inputSize = 64
    #expect(c.stemStride == 2 && c.finalSize == 4)
    #expect(MobileFaceNet.Configuration(inputSize: 48).finalSize == 6)
}

/// A NaN or negative width multiplier (NaN trapped converting it, −1 built every width as 8) and
/// an input size of 0 (a zero-size GDC kernel) stop with a message naming the setting.
@Test func badMobileFaceNetSettingsAreNamed() async {
    func stderr(_ result: ExitTest.Result?) -> String { String(decoding: result?.standardErrorContent ?? [], as: UTF8.self) }
    let nan = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var g = RandomGenerator(seed: 1)
        _ = MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32, widthMultiplier: .nan), using: &g)
    }
    #expect(stderr(nan).contains("MobileFaceNet: widthMultiplier must be a positive number, got nan"))
    let negative = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var g = RandomGenerator(seed: 1)
        _ = MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32, widthMultiplier: -1), using: &g)
    }
    #expect(stderr(negative).contains("MobileFaceNet: widthMultiplier must be a positive number, got -1.0"))
    let empty = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var g = RandomGenerator(seed: 1)
        _ = MobileFaceNet(MobileFaceNet.Configuration(inputSize: 0), using: &g)
    }
    #expect(stderr(empty).contains("MobileFaceNet: input size 0 must be a positive multiple of 8"))
}

/// Every zoo backbone says which images it takes (`inputShape`, checked by trainers before a
/// forward pass), and its forward pass stops with the same words.
@Test func backbonesNameTheImagesTheyTake() async {
    var g = RandomGenerator(seed: 1)
    let networks: [(any FeatureExtractor, [Int])] = [
        (SmallFaceNet(inputSize: 16, using: &g), [3, 16, 16]), (TinyResNet32(using: &g), [3, 32, 32]),
        (MobileFaceNet(MobileFaceNet.Configuration(inputSize: 32), using: &g), [3, 32, 32]),
        (LeNetEncoder(inputChannels: 1, inputSize: 28, using: &g), [1, 28, 28]),
    ]
    for (network, shape) in networks {
        #expect(network.inputShape == shape)
        #expect(network.inputMismatch([5] + shape) == nil)
        #expect(network.inputMismatch([5, shape[0], shape[1] / 2, shape[2] / 2]) == "\(type(of: network)): input must be [N, \(shape.map(String.init).joined(separator: ", "))], got [5, \(shape[0]), \(shape[1] / 2), \(shape[2] / 2)]")
        #expect(network.inputMismatch(shape) != nil, "an image without its batch axis")
    }
    let forward = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var g = RandomGenerator(seed: 1)
        _ = SmallFaceNet(inputSize: 16, using: &g).features(Tensor.zeros([2, 3, 8, 8]))
    }
    let stderr = String(decoding: forward?.standardErrorContent ?? [], as: UTF8.self)
    #expect(stderr.contains("SmallFaceNet: input must be [N, 3, 16, 16], got [2, 3, 8, 8]"), "\(stderr)")
}

@Test func iresnetCountsMatchInsightface() {
    var g = RandomGenerator(seed: 3)
    // At 112×112 the fc layer is 25088 → 512; counts by formula for 18/34/50.
    #expect(iresnetCount([3, 4, 14, 3], side: 7) == 43_590_848)
    // Debug builds draw random weights slowly: there, build the 18-layer network only (the
    // deeper ones differ in block counts alone, which the formula covers).
    #if DEBUG
    let configurations = [IResNet.Configuration.iresnet18]
    #else
    let configurations = [IResNet.Configuration.iresnet18, .iresnet34, .iresnet50]
    #endif
    for config in configurations {
        var small = config
        small.inputSize = 16  // same blocks, 1×1 final map: keeps the debug test fast
        let model = IResNet(small, using: &g)
        #expect(model.parameterCount == iresnetCount(config.layers, side: 1), "\(config.layers)")
        #expect(model.trainableParameterCount == model.parameterCount - 512)  // frozen features.weight
    }
    let model = IResNet(IResNet.Configuration(layers: [2, 2, 2, 2], embeddingSize: 128, inputSize: 32), using: &g)
    let names = model.namedParameters().map(\.name)
    #expect(names.prefix(3) == ["conv1.weight", "bn1.weight", "bn1.bias"])
    #expect(names.contains("layer2.0.downsample.0.weight") && names.contains("layer4.1.bn3.bias"))
    #expect(names.suffix(3) == ["fc.bias", "features.weight", "features.bias"])
    model.eval()
    let f = withoutGradients { model.features(Tensor.randomNormal([1, 3, 32, 32], using: &g)) }
    #expect(f.embedding.shape == [1, 128] && f.maps["stage4"]?.shape == [1, 512, 2, 2] && f.maps["stage1"]?.shape == [1, 64, 16, 16])
}

@Test func tinyResNetAndSmallFaceNet() {
    var g = RandomGenerator(seed: 4)
    let tiny = TinyResNet32(using: &g)
    // Formula from models.py: stem, four BasicBlocks (three with 1×1 shortcuts), bn2, fc, bn.
    func basic(_ cin: Int, _ cout: Int) -> Int {
        2 * cin + conv(cin, cout, 3) + 3 * cout + conv(cout, cout, 3) + 2 * cout + (cin != cout ? conv(cin, cout, 1) + 2 * cout : 0)
    }
    let expected = conv(3, 32, 3) + 3 * 32 + basic(32, 32) + basic(32, 64) + basic(64, 128) + basic(128, 256)
        + 2 * 256 + 4096 * 128 + 128 + 2 * 128
    #expect(tiny.parameterCount == expected)
    #expect(tiny.namedParameters().map(\.name).contains("stages.1.short.0.weight"))
    let x = Tensor.randomNormal([2, 3, 32, 32], using: &g)
    let f = tiny.features(x)
    #expect(f.embedding.shape == [2, 128] && f.maps["stage4"]?.shape == [2, 256, 4, 4])

    let small = SmallFaceNet(using: &g)
    #expect(small.parameterCount < 150_000)
    let s = small.features(x)
    #expect(s.embedding.shape == [2, 128] && s.maps["stage3"]?.shape == [2, 128, 4, 4])
    let grads = s.embedding.square().sum().backward()
    let covered = small.parameters().allSatisfy { grads[$0] != nil }
    #expect(covered)
    let summary = small.summary(inputShape: [2, 3, 32, 32])
    #expect(summary.contains("gdc.0") && summary.contains("[2, 128, 1, 1]") && summary.contains("Total parameters: \(small.parameterCount)"))
}

@Test func leNetAndDomainCritics() {
    var g = RandomGenerator(seed: 5)
    let encoder = LeNetEncoder(using: &g)
    #expect(encoder.namedParameters().map(\.name) == ["encoder.0.weight", "encoder.0.bias", "encoder.3.weight", "encoder.3.bias", "fc1.weight", "fc1.bias"])
    #expect(encoder.parameterCount == (20 * 25 + 20) + (50 * 20 * 25 + 50) + (800 * 500 + 500))
    let classifier = LeNetClassifier(using: &g)
    #expect(classifier.namedParameters().map(\.name) == ["fc2.weight", "fc2.bias"])
    let x = Tensor.randomNormal([2, 1, 28, 28], using: &g)
    let f = encoder.features(x)
    #expect(f.embedding.shape == [2, 500] && f.maps["stage2"]?.shape == [2, 50, 4, 4])
    #expect(classifier(f.embedding).shape == [2, 10])

    let critic = DomainDiscriminator.seed(inputDimension: 500, using: &g)
    #expect(critic.namedParameters().map(\.name) == ["layer.0.weight", "layer.0.bias", "layer.1.weight", "layer.2.weight", "layer.2.bias",
                                                     "layer.3.weight", "layer.4.weight", "layer.4.bias"])
    #expect(critic(f.embedding).shape == [2, 2])
    let head = DomainDiscriminator(inputDimension: 500, hidden: [32, 16], activation: .relu, using: &g)
    #expect(head(f.embedding).shape == [2, 2])
    let report = GradientCheck.run([Tensor.randomNormal([3, 500], using: &g)], maxElementsPerInput: 16) { t in head(t[0]) }
    #expect(report.passed, "\(report)")
}
