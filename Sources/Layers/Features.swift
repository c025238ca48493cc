import Tensor

/// What a network exposes for transfer: the embedding, optional logits, and named
/// intermediate feature maps (for feature-map losses such as NST).
///
/// Models of the zoo fill `maps` with their stage outputs (`"stage1"`, `"stage2"`, …, shapes
/// `[B, C, H, W]`); transfer losses pick the maps they need by name.
public struct Features {
    /// `[B, D]` embedding (not normalised).
    public var embedding: Tensor
    /// `[B, classes]` logits, when the network has its own classifier.
    public var logits: Tensor?
    /// Named intermediate feature maps, `[B, C, H, W]`.
    public var maps: [String: Tensor]

    public init(embedding: Tensor, logits: Tensor? = nil, maps: [String: Tensor] = [:]) {
        self.embedding = embedding
        self.logits = logits
        self.maps = maps
    }

    /// The same features cut from the tape (a frozen teacher's outputs).
    public func detached() -> Features {
        Features(embedding: embedding.detached(), logits: logits?.detached(), maps: maps.mapValues { $0.detached() })
    }

    /// Batch size.
    public var batchSize: Int { embedding.shape[0] }
}
