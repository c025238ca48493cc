import Testing
import Tensor
import Layers
@testable import Evaluation

/// Embedding extraction: batching, flip test-time augmentation, normalisation, and bad models.
struct EmbeddingExtractorTests {
    /// Embeds an image `[C, H, W]` as (sum of its left half, sum of its right half).
    let halves: EmbeddingModel = { x in
        let w = x.shape[3]
        let left = x.sliced(axis: 3, 0..<(w / 2)).sum(alongAxes: [1, 2, 3])
        let right = x.sliced(axis: 3, (w / 2)..<w).sum(alongAxes: [1, 2, 3])
        return Tensor.stack([left, right], axis: 1)
    }

    @Test func mirroredReversesEveryRow() {
        let x = Tensor.arange(0, 12).reshaped(to: [1, 2, 2, 3])
        #expect(EmbeddingExtractor.mirrored(x).scalars == [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9])
        #expect(EmbeddingExtractor.mirrored(EmbeddingExtractor.mirrored(x)).scalars == x.scalars)
    }

    @Test func withoutFlipEmbeddingsAreNormalisedOutputs() throws {
        // Image 0: left half sums to 3, right half to 4 → (0.6, 0.8).
        let x = Tensor(shape: [1, 1, 1, 4], scalars: [1, 2, 1, 3])
        let e = try EmbeddingExtractor(flipTestTimeAugmentation: false).embeddings(of: x, model: halves)
        #expect(e.shape == [1, 2])
        #expect(e.scalars.enumerated().allSatisfy { abs($1 - [0.6, 0.8][$0]) < 1e-6 })
    }

    @Test func flipAddsTheMirroredEmbedding() throws {
        // f(x) + f(mirror x) = (3, 4) + (4, 3) = (7, 7) → (1/√2, 1/√2).
        let x = Tensor(shape: [1, 1, 1, 4], scalars: [1, 2, 1, 3])
        let e = try EmbeddingExtractor(flipTestTimeAugmentation: true).embeddings(of: x, model: halves)
        #expect(e.scalars.allSatisfy { abs($0 - Float(0.5).squareRoot()) < 1e-6 })
    }

    @Test func batchingDoesNotChangeTheResult() throws {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.randomNormal([5, 2, 2, 4], using: &rng)
        let one = try EmbeddingExtractor(batchSize: 5).embeddings(of: x, model: halves)
        let many = try EmbeddingExtractor(batchSize: 2).embeddings(of: x, model: halves)
        #expect(one.scalars == many.scalars)
    }

    @Test func modelRunsWithoutTheTapeOnLazyBatches() throws {
        var recording: [Bool] = [], ranges: [Int] = []
        let source = ImageSource(count: 3) { range in
            ranges.append(range.count)
            return Tensor.ones([range.count, 1, 1, 2])
        }
        let e = try EmbeddingExtractor(batchSize: 2, flipTestTimeAugmentation: false).embeddings(of: source) { x in
            recording.append(GradientMode.isEnabled)
            return x.flattened()
        }
        #expect(recording == [false, false])
        #expect(ranges == [2, 1])
        #expect(e.shape == [3, 2])
    }

    @Test func zeroEmbeddingStaysZero() throws {
        let e = try EmbeddingExtractor().embeddings(of: Tensor.zeros([1, 1, 1, 2])) { $0.flattened() }
        #expect(e.scalars == [0, 0])
    }

    @Test func badModelsAreReported() {
        let x = Tensor.ones([2, 1, 1, 2])
        func kind(_ model: EmbeddingModel) -> EvaluationError.Kind? {
            do { _ = try EmbeddingExtractor().embeddings(of: x, model: model); return nil } catch { return (error as? EvaluationError)?.kind }
        }
        #expect(kind { $0 } == .badModelOutput)                                   // not [B, D]
        #expect(kind { _ in Tensor.ones([3, 2]) } == .badModelOutput)               // wrong batch
        #expect(kind { $0.flattened() * Float.nan } == .nonFiniteValue)
        let short = ImageSource(count: 2) { _ in Tensor.ones([1, 1, 1, 2]) }
        #expect(throws: EvaluationError.self) { try EmbeddingExtractor().embeddings(of: short) { $0.flattened() } }
        #expect(throws: EvaluationError.self) { try EmbeddingExtractor().embeddings(of: ImageSource(count: 0) { _ in x }) { $0.flattened() } }
    }

    /// A network left in training mode (as a training loop leaves it) normalised with batch
    /// statistics and moved its running statistics when evaluated; `inferenceModel` evaluates
    /// it in evaluation mode and gives it back in training mode.
    @Test func inferenceModelEvaluatesWithoutChangingTheNetwork() throws {
        var g = RandomGenerator(seed: 5)
        let network = Sequential(Flatten(), Linear(4, 3, using: &g), BatchNorm1d(3))
        let images = Tensor.randomNormal([6, 1, 2, 2], using: &g)
        _ = network(images)  // move the running statistics away from their start
        let before = network.stateDict()
        let embeddings = try EmbeddingExtractor(flipTestTimeAugmentation: false).embeddings(of: images, model: inferenceModel(network))
        #expect(network.isTraining)
        #expect(network.stateDict().keys.allSatisfy { network.stateDict()[$0]!.scalars == before[$0]!.scalars })
        network.eval()
        let expected = try EmbeddingExtractor(flipTestTimeAugmentation: false).embeddings(of: images) { network($0) }
        #expect(embeddings.scalars == expected.scalars)
        // A network in mixed mode (one BatchNorm training, one kept in evaluation mode) gets each
        // part's mode back (it read as "not training" and stayed in evaluation mode whole).
        let mixed = Sequential(Flatten(), Linear(4, 3, using: &g), BatchNorm1d(3), Linear(3, 3, using: &g), BatchNorm1d(3))
        mixed.layers[4].isTraining = false
        _ = try EmbeddingExtractor(flipTestTimeAugmentation: false).embeddings(of: images, model: inferenceModel(mixed))
        #expect(mixed.layers[2].isTraining && !mixed.layers[4].isTraining)
    }

    /// `batchSize` is a `var` (and decoded from reports): 0 looped forever, −1 trapped on a range.
    @Test func batchSizeBelowOneIsAnError() {
        for size in [0, -1] {
            var extractor = EmbeddingExtractor()
            extractor.batchSize = size
            let error = #expect(throws: EvaluationError.self) { try extractor.embeddings(of: Tensor.ones([2, 1, 1, 2])) { $0.flattened() } }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("batchSize must be at least 1, got \(size)") == true)
        }
    }
}
