import Testing
@testable import Datasets

@Test func lfwStylePairsAreBalancedDistinctAndFoldDisjoint() throws {
    let labels = (0..<40).flatMap { identity in [Int](repeating: identity, count: 2 + identity % 4) }
    let list = try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: 6, seed: 5)
    #expect(list.pairs.count == 60 && list.foldCount == 10)
    for fold in 0..<10 {
        let inFold = list.pairs.filter { $0.fold == fold }
        #expect(inFold.filter(\.isSame).count == 3 && inFold.count == 6)
        let others = Set(list.pairs.filter { $0.fold != fold }.flatMap { [labels[$0.first], labels[$0.second]] })
        #expect(inFold.allSatisfy { !others.contains(labels[$0.first]) && !others.contains(labels[$0.second]) })
    }
    #expect(list.pairs.allSatisfy { ($0.isSame == (labels[$0.first] == labels[$0.second])) && $0.first != $0.second })
    #expect(Set(list.pairs.map { [$0.first, $0.second] }).count == 60)
    #expect(try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: 6, seed: 5) == list)
    #expect(throws: DatasetError.self) { try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: 600, seed: 5) }
    #expect(throws: DatasetError.self) { try PairList.lfwStyle(labels: [0, 0, 1, 1], folds: 10, seed: 5) }
    // One image per identity: no genuine pair, and the error says why.
    let single = try #require(throws: DatasetError.self) { try PairList.lfwStyle(labels: Array(0..<4), folds: 2, pairsPerFold: 2, seed: 5) }
    #expect("\(single)".contains("fold 0 has only 0 possible genuine pairs, 1 needed: a genuine pair is two images of one identity, and 2 of the fold's 2 identities have a single image"), "\(single)")
    // Impossible counts are errors (they were preconditions: `pack --pairs-per-fold 0` trapped).
    #expect(throws: DatasetError("pair list", "pairs per fold must be at least 2, got 1")) {
        try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: 1, seed: 5)
    }
    #expect(throws: DatasetError("pair list", "needs at least one fold, got 0")) { try PairList.lfwStyle(labels: labels, folds: 0, seed: 5) }
}

@Test func identityDisjointSplitRenumbersLabels() throws {
    let faces = SyntheticFaces(identities: 10, imagesPerIdentity: 2, size: 8, seed: 0)
    let (train, test) = try Splits.identityDisjoint(faces, testFraction: 0.3, seed: 4)
    #expect(train.identityCount == 7 && test.identityCount == 3)
    #expect(train.count == 14 && test.count == 6)
    #expect(Set(train.indices.map(faces.label(at:))).isDisjoint(with: test.indices.map(faces.label(at:))))
    #expect(Set(test.labels) == [0, 1, 2] && (try? test.sample(at: 5).label) == test.label(at: 5))
    let again = try Splits.identityDisjoint(faces, testFraction: 0.3, seed: 4)
    #expect(again.test.indices == test.indices)
    #expect(try Splits.identityDisjoint(faces, testFraction: 0.3, seed: 5).test.indices != test.indices)
    // Counts the data cannot give are errors (with folder data, the identity count is data).
    #expect(throws: DatasetError("identity-disjoint split", "11 test identities asked of a data set of 10 identities")) {
        try Splits.identityDisjoint(faces, testIdentities: 11, seed: 4)
    }
    #expect(throws: DatasetError("identity-disjoint split", "test fraction 1.5 outside 0...1")) { try Splits.identityDisjoint(faces, testFraction: 1.5, seed: 4) }
    #expect(throws: DatasetError("per-identity split", "negative test images per identity, -1")) { try Splits.perIdentity(faces, testPerIdentity: -1, seed: 4) }
}

@Test func perIdentitySplitKeepsIdentities() throws {
    let faces = SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 8, seed: 0)
    let (gallery, probes) = try Splits.perIdentity(faces, testPerIdentity: 1, seed: 2)
    #expect(gallery.count == 9 && probes.count == 3 && probes.identityCount == 3)
    #expect(Set(probes.labels) == [0, 1, 2] && Set(gallery.indices).isDisjoint(with: probes.indices))
}
