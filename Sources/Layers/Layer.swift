import Tensor

/// A module with one tensor input and one tensor output.
///
/// Layers of this library call ``Module/recorded(_:)`` on their output, so that
/// ``Module/summary(inputShape:)`` can show per-layer output shapes; your own layers may too.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A network that exposes ``Features`` for transfer: the embedding, optional logits and named
/// intermediate maps. Calling it returns the embedding.
public protocol FeatureExtractor: Layer {
    func features(_ x: Tensor) -> Features
    /// The shape `[C, H, W]` of one input image it takes (a batch is `[N, C, H, W]`); `nil`, the
    /// default, when it takes any. Trainers check batches against it before the forward pass
    /// (``inputMismatch(_:)``).
    var inputShape: [Int]? { get }
}

extension FeatureExtractor {
    public func callAsFunction(_ x: Tensor) -> Tensor { features(x).embedding }

    public var inputShape: [Int]? { nil }

    /// Why a batch of `shape` is not an input it takes (`SmallFaceNet: input must be [N, 3, 16,
    /// 16], got [8, 3, 8, 8]`), or `nil` when it is one (or ``inputShape`` is `nil`).
    public func inputMismatch(_ shape: [Int]) -> String? {
        guard let expected = inputShape, shape.count != expected.count + 1 || Array(shape.dropFirst()) != expected else { return nil }
        return "\(type(of: self)): input must be [N, \(expected.map(String.init).joined(separator: ", "))], got \(shape)"
    }
}
