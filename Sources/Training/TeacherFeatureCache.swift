import Tensor
import Layers

/// The teacher's features precomputed once for every sample — the seed's "extra data input
/// receiving the HR network's 512-d features". Valid only when the HR view is deterministic
/// (no random augmentation of the teacher's input).
public final class TeacherFeatureCache {
    /// `[N, D]` embeddings, row `i` for dataset index `i`.
    public let embeddings: Tensor
    /// Cached feature maps `[N, C, H, W]` by name.
    public let maps: [String: Tensor]

    public init(embeddings: Tensor, maps: [String: Tensor] = [:]) {
        precondition(embeddings.rank == 2, "TeacherFeatureCache: embeddings must be [N, D], got \(embeddings.shape)")
        precondition(maps.values.allSatisfy { $0.shape.first == embeddings.shape[0] },
                     "TeacherFeatureCache: maps \(maps.mapValues(\.shape)) do not have \(embeddings.shape[0]) rows")
        self.embeddings = embeddings.detached()
        self.maps = maps.mapValues { $0.detached() }
    }

    /// Runs `teacher` (eval mode, no tape) over `count` HR samples in batches; `images(range)`
    /// returns the HR batch of those dataset indices. `keepingMaps` names the feature maps to cache.
    public convenience init(teacher: any FeatureExtractor, count: Int, batchSize: Int = 64, keepingMaps: [String] = [],
                            images: (Range<Int>) throws -> Tensor) rethrows {
        precondition(count > 0 && batchSize > 0, "TeacherFeatureCache: count \(count) and batchSize \(batchSize) must be positive")
        teacher.eval()
        var embeddingBatches: [Tensor] = [], mapBatches: [String: [Tensor]] = [:]
        for start in stride(from: 0, to: count, by: batchSize) {
            let batch = try images(start..<min(start + batchSize, count))
            let features = withoutGradients { teacher.features(batch) }
            embeddingBatches.append(features.embedding)
            for name in keepingMaps {
                precondition(features.maps[name] != nil,
                             "TeacherFeatureCache: teacher has no feature map '\(name)' (it has \(features.maps.keys.sorted()))")
                mapBatches[name, default: []].append(features.maps[name]!)
            }
        }
        self.init(embeddings: Tensor.concatenate(embeddingBatches), maps: mapBatches.mapValues { Tensor.concatenate($0) })
    }

    /// The cached features of dataset `indices`, as the teacher would have produced them.
    public func features(_ indices: [Int]) -> Features {
        Features(embedding: embeddings.indexSelect(axis: 0, indices), maps: maps.mapValues { $0.indexSelect(axis: 0, indices) })
    }
}
