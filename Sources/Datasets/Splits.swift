import Tensor

/// Train/test splits of a labelled set.
public enum Splits {
    /// An identity-disjoint split: `testIdentities` identities chosen by `seed` go to the test
    /// side with all their images, the rest to training; each side's labels are renumbered to
    /// `0..<k` in increasing order of the original labels. More test identities than the data set
    /// has (or a negative count) is a ``DatasetError``.
    public static func identityDisjoint(_ dataset: any FaceDataset, testIdentities: Int, seed: UInt64) throws -> (train: SubsetDataset, test: SubsetDataset) {
        let present = Set(dataset.labels).sorted()
        guard testIdentities >= 0 && testIdentities <= present.count else {
            throw DatasetError("identity-disjoint split", "\(testIdentities) test identities asked of a data set of \(present.count) identities")
        }
        var rng = RandomGenerator(seed: seed)
        let test = Set(present.shuffled(using: &rng).prefix(testIdentities))
        let indices = Array(0..<dataset.count)
        return (SubsetDataset(dataset, indices: indices.filter { !test.contains(dataset.label(at: $0)) }, renumberingLabels: true),
                SubsetDataset(dataset, indices: indices.filter { test.contains(dataset.label(at: $0)) }, renumberingLabels: true))
    }

    /// An identity-disjoint split with about `testFraction` of the identities on the test side
    /// (a fraction outside `0...1` is a ``DatasetError``).
    public static func identityDisjoint(_ dataset: any FaceDataset, testFraction: Double, seed: UInt64) throws -> (train: SubsetDataset, test: SubsetDataset) {
        guard (0...1).contains(testFraction) else {
            throw DatasetError("identity-disjoint split", "test fraction \(testFraction) outside 0...1")
        }
        let identities = Set(dataset.labels).count
        return try identityDisjoint(dataset, testIdentities: Int((Double(identities) * testFraction).rounded()), seed: seed)
    }

    /// A split of each identity's images (same identities on both sides, labels unchanged):
    /// `testPerIdentity` images of every identity, chosen by `seed`, go to the test side — e.g.
    /// a gallery/probe split for identification. Identities with fewer images keep at least
    /// one for training. A negative count is a ``DatasetError``.
    public static func perIdentity(_ dataset: any FaceDataset, testPerIdentity: Int, seed: UInt64) throws -> (train: SubsetDataset, test: SubsetDataset) {
        guard testPerIdentity >= 0 else { throw DatasetError("per-identity split", "negative test images per identity, \(testPerIdentity)") }
        var byIdentity: [Int: [Int]] = [:]
        for i in 0..<dataset.count { byIdentity[dataset.label(at: i), default: []].append(i) }
        var rng = RandomGenerator(seed: seed)
        var test: Set<Int> = []
        for label in byIdentity.keys.sorted() {
            let images = byIdentity[label]!.shuffled(using: &rng)
            test.formUnion(images.prefix(min(testPerIdentity, images.count - 1)))
        }
        let indices = Array(0..<dataset.count)
        return (SubsetDataset(dataset, indices: indices.filter { !test.contains($0) }),
                SubsetDataset(dataset, indices: indices.filter { test.contains($0) }))
    }
}
