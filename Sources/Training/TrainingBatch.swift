import Tensor

/// One training batch: the same faces twice — the HR view for the teacher and the degraded
/// LR view for the student — with identity labels and the dataset indices of the samples
/// (for the teacher-feature cache).
public struct TrainingBatch {
    /// `[B, C, H, W]` high-resolution view.
    public var highResolution: Tensor
    /// `[B, C, h, w]` degraded view (often up-sampled back to the network's input size).
    public var lowResolution: Tensor
    public var labels: [Int]
    /// Dataset index of each row.
    public var indices: [Int]
    /// Whether each row's views are mirrored (a loader's ``Batch/flipped``); empty: none is. A
    /// ``TeacherFeatureCache`` holds the features of unmirrored HR images, so a distillation
    /// step with a cache refuses mirrored rows: a batch built from a loader's `Batch` by hand
    /// must carry its flags (``init(_:)`` does).
    public var flipped: [Bool]

    public init(highResolution: Tensor, lowResolution: Tensor, labels: [Int], indices: [Int], flipped: [Bool] = []) {
        precondition(highResolution.rank == 4 && lowResolution.rank == 4,
                     "TrainingBatch: views must be [B, C, H, W], got \(highResolution.shape) and \(lowResolution.shape)")
        precondition(highResolution.shape[0] == labels.count && lowResolution.shape[0] == labels.count && indices.count == labels.count,
                     "TrainingBatch: \(labels.count) labels, \(indices.count) indices for views \(highResolution.shape) and \(lowResolution.shape)")
        precondition(flipped.isEmpty || flipped.count == labels.count, "TrainingBatch: \(flipped.count) flip flags for \(labels.count) rows")
        self.highResolution = highResolution
        self.lowResolution = lowResolution
        self.labels = labels
        self.indices = indices
        self.flipped = flipped
    }

    public var count: Int { labels.count }
}

/// A deterministic stream of batches: the batch of a global step depends only on the step
/// (and the provider's seed), never on timing, so a resumed run sees exactly the batches the
/// uninterrupted run would have.
public protocol BatchProvider {
    /// The batch of global step `step` (0-based).
    func batch(atStep step: Int) throws -> TrainingBatch
    /// Batches per epoch.
    var batchesPerEpoch: Int { get }
}
