import Testing
import CrossRes

/// Synthetic "digits": image `i` is filled with the value `i` (so rows identify samples), label `i mod 10`.
func syntheticDigits(_ name: String, count: Int, side: Int = 16, offset: Float = 0) -> DigitSet {
    let images = Tensor(shape: [count, 1, side, side]) { out in
        for i in 0..<count { for p in 0..<(side * side) { out[i * side * side + p] = Float(i) + offset } }
    }
    return DigitSet(name: name, images: images, labels: (0..<count).map { $0 % 10 })
}

@Suite struct DigitsBatchesTests {
    let source = syntheticDigits("source", count: 12)
    let target = syntheticDigits("target", count: 9, offset: 1000)

    @Test func theBatchOfAStepDependsOnlyOnTheStepAndSeed() throws {
        let a = DigitsPairedBatches(source: source, target: target, batchSize: 4, seed: 7)
        let b = DigitsPairedBatches(source: source, target: target, batchSize: 4, seed: 7)
        let other = DigitsPairedBatches(source: source, target: target, batchSize: 4, seed: 8)
        // Out of order on purpose: a resumed run asks for a late step first.
        for step in [9, 0, 5, 2] {
            let x = a.batch(atStep: step), y = b.batch(atStep: step)
            #expect(x.highResolution.scalars == y.highResolution.scalars)
            #expect(x.lowResolution.scalars == y.lowResolution.scalars)
            #expect(x.labels == y.labels && x.indices == y.indices)
        }
        #expect((0..<3).map(a.sourceRows(atStep:)) != (0..<3).map(other.sourceRows(atStep:)), "another seed shuffles differently")
    }

    @Test func eachDomainCyclesThroughItsOwnEpochs() {
        let batches = DigitsPairedBatches(source: source, target: target, batchSize: 4, seed: 3)
        #expect(batches.batchesPerEpoch == 2, "the smaller domain (9 samples) makes 2 full batches of 4")
        // Source: 3 batches per epoch, every sample once; target: 2 batches, one sample left out per epoch.
        let sourceEpoch = (0..<3).flatMap(batches.sourceRows(atStep:))
        #expect(sourceEpoch.sorted() == Array(0..<12))
        let targetEpoch0 = (0..<2).flatMap(batches.targetRows(atStep:)), targetEpoch1 = (2..<4).flatMap(batches.targetRows(atStep:))
        #expect(Set(targetEpoch0).count == 8 && Set(targetEpoch1).count == 8)
        #expect(targetEpoch0 != targetEpoch1, "each epoch is a new permutation")
    }

    @Test func sourceRowsCarryLabelsAndTargetRowsComeFromTheTargetSet() {
        let batches = DigitsPairedBatches(source: source, target: target, batchSize: 4, seed: 3)
        let batch = batches.batch(atStep: 4)
        let rows = batches.sourceRows(atStep: 4), targetRows = batches.targetRows(atStep: 4)
        #expect(batch.indices == rows && batch.labels == rows.map { $0 % 10 })
        // Image i is filled with i (source) or 1000 + i (target): the views are the listed rows.
        let side = 16 * 16
        #expect((0..<4).map { batch.highResolution.scalars[$0 * side] } == rows.map(Float.init))
        #expect((0..<4).map { batch.lowResolution.scalars[$0 * side] } == targetRows.map { Float($0) + 1000 })
    }
}
