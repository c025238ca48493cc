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
}

extension FeatureExtractor {
    public func callAsFunction(_ x: Tensor) -> Tensor { features(x).embedding }
}
