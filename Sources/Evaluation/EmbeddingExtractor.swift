import Tensor

/// Turns images into unit-length embeddings the way insightface's verification does.
///
/// Images are fed in batches of ``batchSize`` under `withoutGradients` (no tape). With
/// ``flipTestTimeAugmentation`` the embedding is `f(x) + f(mirror(x))` — the sum of the raw
/// embeddings of the image and of its horizontal mirror ("Accuracy-Flip" in
/// `recognition/arcface_torch/eval/verification.py`) — and the result is L2-normalised:
/// `e = v / max(‖v‖₂, 1e-12)`. A zero output therefore stays the zero vector (cosine 0 with
/// everything).
public struct EmbeddingExtractor: Codable, Equatable, Sendable {
    /// Images per forward pass.
    public var batchSize: Int
    /// Whether to add the embedding of the horizontally mirrored image.
    public var flipTestTimeAugmentation: Bool

    public init(batchSize: Int = 64, flipTestTimeAugmentation: Bool = true) {
        precondition(batchSize >= 1, "EmbeddingExtractor: batchSize must be at least 1, got \(batchSize)")
        self.batchSize = batchSize
        self.flipTestTimeAugmentation = flipTestTimeAugmentation
    }

    /// L2-normalised embeddings `[N, D]` of every image of `source`.
    ///
    /// Throws when ``batchSize`` is below 1, when the model's output is not `[B, D]` for a batch of `B` images, when two batches
    /// disagree on `D`, or when an embedding is not finite (a diverged model).
    public func embeddings(of source: ImageSource, model: EmbeddingModel) throws -> Tensor {
        // `batchSize` is a `var` and decoded from reports: the initialiser's check is not enough.
        guard batchSize >= 1 else {
            throw EvaluationError(.invalidArgument, "EmbeddingExtractor: batchSize must be at least 1, got \(batchSize)")
        }
        guard source.count > 0 else { throw EvaluationError(.emptyInput, "no images to embed") }
        var values: [Float] = []
        var dimension = -1
        var start = 0
        while start < source.count {
            let range = start..<min(start + batchSize, source.count)
            let batch = try source.images(range)
            var output = try Self.run(model, on: batch)
            if flipTestTimeAugmentation {
                let mirroredOutput = try Self.run(model, on: Self.mirrored(batch))
                guard mirroredOutput.shape == output.shape else {
                    throw EvaluationError(.badModelOutput,
                                          "model output \(mirroredOutput.shape) for the mirrored batch differs from \(output.shape)")
                }
                output = withoutGradients { output + mirroredOutput }
            }
            if dimension < 0 { dimension = output.shape[1] }
            guard output.shape[1] == dimension else {
                throw EvaluationError(.badModelOutput,
                                      "model output dimension changed from \(dimension) to \(output.shape[1]) at images \(range)")
            }
            values.append(contentsOf: output.scalars)
            start = range.upperBound
        }
        guard values.allSatisfy(\.isFinite) else {
            throw EvaluationError(.nonFiniteValue, "the model produced a NaN or infinite embedding")
        }
        Self.normalizeRows(&values, dimension: dimension)
        return Tensor(shape: [source.count, dimension], scalars: values)
    }

    /// L2-normalised embeddings of the images of an `[N, C, H, W]` tensor.
    public func embeddings(of images: Tensor, model: EmbeddingModel) throws -> Tensor {
        try embeddings(of: ImageSource(images), model: model)
    }

    /// The images mirrored left–right: `out[n, c, h, w] = x[n, c, h, W − 1 − w]`.
    ///
    /// A constant (not recorded on the tape): test-time augmentation needs no gradient.
    public static func mirrored(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4, "EmbeddingExtractor.mirrored: expected an NCHW tensor, got shape \(images.shape)")
        let width = images.shape[3]
        let rows = images.count / max(width, 1)
        return Tensor(shape: images.shape) { out in
            let src = images.storage.base, dst = out.baseAddress!
            parallelFor(rows, grain: 256) { range in
                for row in range {
                    let s = src + row &* width, d = dst + row &* width
                    for w in 0..<width { d[w] = s[width &- 1 &- w] }
                }
            }
        }
    }

    private static func run(_ model: EmbeddingModel, on batch: Tensor) throws -> Tensor {
        let output = withoutGradients { model(batch) }
        guard output.rank == 2, output.shape[0] == batch.shape[0] else {
            throw EvaluationError(.badModelOutput,
                                  "model returned shape \(output.shape) for an input batch of shape \(batch.shape); expected [\(batch.shape[0]), D]")
        }
        return output
    }

    /// Each row divided by `max(‖row‖₂, 1e-12)`, the norm accumulated in double precision.
    static func normalizeRows(_ values: inout [Float], dimension: Int) {
        guard dimension > 0 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            for row in 0..<(buffer.count / dimension) {
                let p = base + row &* dimension
                var squares = 0.0
                for j in 0..<dimension { squares += Double(p[j]) * Double(p[j]) }
                let scale = Float(1 / Swift.max(squares.squareRoot(), 1e-12))
                for j in 0..<dimension { p[j] *= scale }
            }
        }
    }
}
