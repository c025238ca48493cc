import Testing
import Tensor
@testable import Layers

/// The example of Docs/Models.md, kept compiling and true.
private final class TinyEmbedder: FeatureExtractor {
    let stem: Sequential
    let block: Residual
    let fc: Linear

    init(embeddingSize: Int = 64, using g: inout RandomGenerator) {
        stem = Sequential {
            Conv2d(3, 32, kernelSize: 3, stride: 2, padding: 1, bias: false, using: &g)
            BatchNorm2d(32)
            PReLU(32)
        }
        block = Residual(Sequential {
            Conv2d(32, 32, kernelSize: 3, padding: 1, groups: 32, bias: false, using: &g)
            BatchNorm2d(32)
            PReLU(32)
        })
        fc = Linear(32, embeddingSize, using: &g)
    }

    func features(_ x: Tensor) -> Features {
        let s1 = stem(x), s2 = block(s1)
        let embedding = fc(s2.globalAveragePool2d())
        return Features(embedding: recorded(embedding), maps: ["stage1": s1, "stage2": s2])
    }
}

@Test func docsExampleNamesAndShapes() {
    var g = RandomGenerator(seed: 42)
    let model = TinyEmbedder(using: &g)
    #expect(model.namedParameters().map(\.name) == [
        "stem.0.weight", "stem.1.weight", "stem.1.bias", "stem.2.weight",
        "block.body.0.weight", "block.body.1.weight", "block.body.1.bias", "block.body.2.weight",
        "fc.weight", "fc.bias",
    ])
    let summary = model.summary(inputShape: [1, 3, 32, 32])
    #expect(summary.contains("block.body.0") && summary.contains("[1, 32, 16, 16]") && summary.contains("[1, 64]"))
    let f = model.features(Tensor.randomNormal([2, 3, 32, 32], using: &g))
    #expect(f.embedding.shape == [2, 64] && f.maps["stage2"]?.shape == [2, 32, 16, 16])
}
