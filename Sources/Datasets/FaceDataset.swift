import Tensor

/// One labelled image of a data set.
public struct Sample: Sendable, Equatable {
    /// The (HR) image.
    public var image: Image
    /// Identity (or class) in `0..<identityCount`.
    public var label: Int

    public init(image: Image, label: Int) {
        self.image = image
        self.label = label
    }
}

/// A labelled image collection: faces by identity, or digits by class.
///
/// Samples are addressed by index `0..<count`; labels are dense identities
/// `0..<identityCount`. `label(at:)` must be cheap (no decoding): splits, pair lists and
/// loaders read every label. `sample(at:)` may decode a file and throws a ``DatasetError``
/// naming it when that fails. Conformers are `Sendable` so loaders can decode on background
/// threads; `sample(at:)` must be safe to call concurrently.
public protocol FaceDataset: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Number of identities; labels are `0..<identityCount`.
    var identityCount: Int { get }
    /// The label of sample `index`, without decoding it.
    func label(at index: Int) -> Int
    /// Sample `index` (image and label).
    func sample(at index: Int) throws -> Sample
}

extension FaceDataset {
    /// Every sample's label, in index order.
    public var labels: [Int] { (0..<count).map(label(at:)) }

    /// How many samples each identity has (`histogram[label]`).
    public var labelHistogram: [Int] {
        var histogram = [Int](repeating: 0, count: identityCount)
        for i in 0..<count { histogram[label(at: i)] += 1 }
        return histogram
    }
}

/// Samples held in memory (digits, small sets, test fixtures).
public struct InMemoryDataset: FaceDataset {
    public let samples: [Sample]
    public let identityCount: Int

    /// `identityCount` defaults to the largest label + 1.
    public init(samples: [Sample], identityCount: Int? = nil) {
        let needed = (samples.map(\.label).max() ?? -1) + 1
        precondition(samples.allSatisfy { $0.label >= 0 }, "InMemoryDataset: labels must be non-negative")
        precondition(identityCount.map { $0 >= needed } ?? true,
                     "InMemoryDataset: identityCount \(identityCount ?? 0) is less than the largest label + 1 = \(needed)")
        self.samples = samples
        self.identityCount = identityCount ?? needed
    }

    public var count: Int { samples.count }
    public func label(at index: Int) -> Int { samples[index].label }
    public func sample(at index: Int) throws -> Sample { samples[index] }
}

/// A view of some samples of another data set, optionally with labels renumbered
/// (identity-disjoint splits renumber each side's identities to `0..<k`).
public struct SubsetDataset: FaceDataset {
    public let base: any FaceDataset
    /// Indices into `base`.
    public let indices: [Int]
    /// New label of each base label (`nil`: labels unchanged).
    public let labelMap: [Int: Int]?
    public let identityCount: Int

    /// The samples `indices` of `base`. With `renumberingLabels`, the base labels that occur
    /// are mapped, in increasing order, to `0..<k`.
    public init(_ base: any FaceDataset, indices: [Int], renumberingLabels: Bool = false) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < base.count }, "SubsetDataset: an index is outside 0..<\(base.count)")
        self.base = base
        self.indices = indices
        if renumberingLabels {
            let present = Set(indices.map(base.label(at:))).sorted()
            labelMap = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
            identityCount = present.count
        } else {
            labelMap = nil
            identityCount = base.identityCount
        }
    }

    public var count: Int { indices.count }

    public func label(at index: Int) -> Int {
        let label = base.label(at: indices[index])
        return labelMap.map { $0[label]! } ?? label
    }

    public func sample(at index: Int) throws -> Sample {
        var sample = try base.sample(at: indices[index])
        if let labelMap { sample.label = labelMap[sample.label]! }
        return sample
    }
}
