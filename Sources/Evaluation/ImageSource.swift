import Tensor
import Layers

/// Any network seen by the evaluation: an NCHW image batch `[B, C, H, W]` in, embeddings
/// `[B, D]` out.
///
/// The closure is responsible for putting the network in inference mode (BatchNorm running
/// statistics, no dropout; ``inferenceModel(_:)`` does it for a layer); ``EmbeddingExtractor``
/// runs it under `withoutGradients`.
public typealias EmbeddingModel = (Tensor) -> Tensor

/// `layer` as an ``EmbeddingModel`` in inference mode: each call switches it to evaluation mode
/// and gives every module without children (where the modes live: BatchNorm, Dropout) back the
/// mode it had, so a network with a frozen part kept in evaluation mode stays as it was. A
/// network evaluated between training steps (a training loop leaves it in training mode) would
/// otherwise normalise with batch statistics and move its BatchNorm running statistics.
///
/// ```swift
/// let result = try Verification.evaluate(first: hr, second: lr, issame: issame,
///                                        probeModel: inferenceModel(student), galleryModel: inferenceModel(teacher))
/// ```
public func inferenceModel(_ layer: any Layer) -> EmbeddingModel {
    { batch in
        let modes = layer.namedModules().map(\.module).filter { $0.namedChildren().isEmpty }.map { ($0, $0.isTraining) }
        layer.eval()
        defer { for (module, wasTraining) in modes { module.isTraining = wasTraining } }
        return layer(batch)
    }
}

/// A sequence of `count` images that can be read in index ranges, so large sets are decoded
/// batch by batch instead of being held in memory.
///
/// ```swift
/// let all = ImageSource(imagesTensor)                 // [N, C, H, W] already in memory
/// let lazy = ImageSource(count: n) { range in try decode(paths[range]) }
/// ```
public struct ImageSource {
    /// Number of images.
    public let count: Int
    private let load: (Range<Int>) throws -> Tensor

    /// Images produced on demand: `batch(range)` must return `[range.count, C, H, W]`.
    public init(count: Int, batch: @escaping (Range<Int>) throws -> Tensor) {
        precondition(count >= 0, "ImageSource: negative image count \(count)")
        self.count = count
        self.load = batch
    }

    /// The images of an `[N, C, H, W]` tensor.
    public init(_ images: Tensor) {
        precondition(images.rank == 4, "ImageSource: expected an NCHW tensor, got shape \(images.shape)")
        self.init(count: images.shape[0]) { range in images.sliced(axis: 0, range) }
    }

    /// Images `range`, checked to be an NCHW batch of `range.count` images.
    public func images(_ range: Range<Int>) throws -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= count,
                     "ImageSource.images: range \(range) out of bounds for \(count) images")
        let batch = try load(range)
        guard batch.rank == 4, batch.shape[0] == range.count else {
            throw EvaluationError(.badModelOutput,
                                  "image source returned shape \(batch.shape) for \(range.count) images \(range); expected [\(range.count), C, H, W]")
        }
        return batch
    }
}
