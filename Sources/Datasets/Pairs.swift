import Tensor

/// Two samples to compare, genuine (`isSame`) or impostor, in a cross-validation fold.
public struct VerificationPair: Sendable, Equatable, Hashable {
    public var first: Int
    public var second: Int
    public var isSame: Bool
    public var fold: Int

    public init(first: Int, second: Int, isSame: Bool, fold: Int) {
        self.first = first
        self.second = second
        self.isSame = isSame
        self.fold = fold
    }
}

/// A verification protocol: pairs of sample indices in `foldCount` folds (LFW's "View 2":
/// 10 folds of 300 genuine and 300 impostor pairs, each fold's people disjoint from the others).
public struct PairList: Sendable, Equatable {
    public var pairs: [VerificationPair]
    public var foldCount: Int

    public init(pairs: [VerificationPair], foldCount: Int) {
        precondition(pairs.allSatisfy { $0.fold >= 0 && $0.fold < foldCount }, "PairList: a fold index is outside 0..<\(foldCount)")
        self.pairs = pairs
        self.foldCount = foldCount
    }

    /// LFW-style pairs from any labelled set: identities are shuffled by `seed` and dealt to
    /// `folds` folds (so folds share no identity); each fold gets `pairsPerFold / 2` distinct
    /// genuine pairs (two images of one identity with at least two) and the rest distinct
    /// impostor pairs (images of two identities), listed genuine first. Throws when the counts
    /// are impossible (no fold, fewer than 2 pairs per fold) or a fold cannot supply enough
    /// distinct pairs.
    public static func lfwStyle(labels: [Int], folds: Int = 10, pairsPerFold: Int = 600, seed: UInt64) throws -> PairList {
        guard folds >= 1 else { throw DatasetError("pair list", "needs at least one fold, got \(folds)") }
        guard pairsPerFold >= 2 else { throw DatasetError("pair list", "pairs per fold must be at least 2, got \(pairsPerFold)") }
        var byIdentity: [Int: [Int]] = [:]
        for (index, label) in labels.enumerated() { byIdentity[label, default: []].append(index) }
        var identities = byIdentity.keys.sorted()
        var rng = RandomGenerator(seed: seed)
        identities.shuffle(using: &rng)
        guard identities.count >= 2 * folds else {
            throw DatasetError("pair list", "\(identities.count) identities cannot fill \(folds) folds (need at least \(2 * folds))")
        }
        var pairs: [VerificationPair] = []
        for fold in 0..<folds {
            let members = stride(from: fold, to: identities.count, by: folds).map { identities[$0] }
            let repeated = members.filter { byIdentity[$0]!.count >= 2 }
            let genuineCount = pairsPerFold / 2, impostorCount = pairsPerFold - genuineCount
            let possibleGenuine = repeated.reduce(0) { let n = byIdentity[$1]!.count; return $0 + n * (n - 1) / 2 }
            guard possibleGenuine >= genuineCount else {
                throw DatasetError("pair list", "fold \(fold) has only \(possibleGenuine) possible genuine pairs, \(genuineCount) needed: a genuine pair is two images of one identity, and \(members.count - repeated.count) of the fold's \(members.count) identities have a single image (use fewer pairs per fold, or data with more images per identity)")
            }
            var seen: Set<[Int]> = []
            var genuine: [VerificationPair] = [], impostor: [VerificationPair] = []
            var attempts = 0
            while genuine.count < genuineCount {
                attempts += 1
                guard attempts <= 1000 * genuineCount else { throw DatasetError("pair list", "fold \(fold): could not draw \(genuineCount) distinct genuine pairs") }
                let images = byIdentity[repeated[Int(rng.next() % UInt64(repeated.count))]]!
                let a = Int(rng.next() % UInt64(images.count)), b = Int(rng.next() % UInt64(images.count))
                guard a != b, seen.insert([min(images[a], images[b]), max(images[a], images[b])]).inserted else { continue }
                genuine.append(VerificationPair(first: images[min(a, b)], second: images[max(a, b)], isSame: true, fold: fold))
            }
            attempts = 0
            while impostor.count < impostorCount {
                attempts += 1
                guard attempts <= 1000 * impostorCount else { throw DatasetError("pair list", "fold \(fold): could not draw \(impostorCount) distinct impostor pairs") }
                let p = Int(rng.next() % UInt64(members.count)), q = Int(rng.next() % UInt64(members.count))
                guard p != q else { continue }
                let first = byIdentity[members[p]]!, second = byIdentity[members[q]]!
                let a = first[Int(rng.next() % UInt64(first.count))], b = second[Int(rng.next() % UInt64(second.count))]
                guard seen.insert([min(a, b), max(a, b)]).inserted else { continue }
                impostor.append(VerificationPair(first: a, second: b, isSame: false, fold: fold))
            }
            pairs += genuine + impostor
        }
        return PairList(pairs: pairs, foldCount: folds)
    }
}
