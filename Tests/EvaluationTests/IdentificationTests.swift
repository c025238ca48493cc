import Testing
import Foundation
import Tensor
@testable import Evaluation

/// Closed-set rank-k identification and the CMC on hand-computed fixtures.
struct IdentificationTests {
    /// Gallery: identity 0 at 0°, 1 at 90°, 2 at 180° on the unit circle (2-D).
    let gallery = Tensor([[1, 0], [0, 1], [-1, 0]])
    let galleryLabels = [0, 1, 2]

    @Test func ranksByHand() throws {
        // Probe 0 (identity 0) sits at 10° → rank 1. Probe 1 (identity 2) at 80°: identity 1
        // (cos 10°) and identity 0 (cos 80° > cos 170°) come first → rank 3. Probe 2 (identity 1)
        // at 170°: identity 2 first → rank 2.
        func at(_ degrees: Float) -> [Float] { [Float(cos(Double(degrees) * .pi / 180)), Float(sin(Double(degrees) * .pi / 180))] }
        let probes = Tensor([at(10), at(80), at(170)])
        let result = try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels,
                                                 probes: probes, probeLabels: [0, 2, 1], ranks: [1, 2, 5])
        #expect(result.probeRanks == [1, 3, 2])
        let expected: [Double] = [1.0 / 3, 2.0 / 3, 1]
        #expect(result.rankAccuracies.map(\.rate) == expected)
        #expect(result.cmc == expected)
        #expect(result.rate(atRank: 2) == 2.0 / 3)
    }

    @Test func bestGalleryImageOfTheIdentityCountsAndDistractorsJoinTheRanking() throws {
        // Identity 0 has two gallery images; identity 9 is a distractor nobody probes.
        let gallery = Tensor([[1, 0], [0, 1], [0.8, 0.6]])
        let result = try Identification.evaluate(gallery: gallery, galleryLabels: [0, 9, 0],
                                                 probes: Tensor([[0.6, 0.8]]), probeLabels: [0])
        // Best own score 0.96 (image 2) beats the distractor's 0.8.
        #expect(result.probeRanks == [1])
    }

    @Test func tiesCountAgainstTheProbe() throws {
        let constant = Tensor([[1, 0], [1, 0], [1, 0]])
        let result = try Identification.evaluate(gallery: constant, galleryLabels: [0, 1, 2],
                                                 probes: Tensor([[1, 0], [1, 0]]), probeLabels: [0, 1])
        #expect(result.probeRanks == [3, 3])
        #expect(result.rate(atRank: 1) == 0)
    }

    @Test func crossModelGalleryUsesItsOwnModel() throws {
        // Images are 1×1×2 points; the teacher swaps the coordinates. A student that learnt the
        // teacher's space (swaps too) matches the teacher gallery, an unaligned one does not.
        let images = Tensor(shape: [3, 1, 1, 2], scalars: [1, 0, 0, 1, -1, 0.2])
        let teacher: EmbeddingModel = { x in x.flattened().indexSelect(axis: 1, [1, 0]) }
        let unaligned: EmbeddingModel = { x in x.flattened() }
        let extractor = EmbeddingExtractor(flipTestTimeAugmentation: false)
        let aligned = try Identification.evaluate(gallery: ImageSource(images), galleryLabels: [0, 1, 2], probes: ImageSource(images),
                                                  probeLabels: [0, 1, 2], probeModel: teacher, galleryModel: teacher, extractor: extractor)
        let mismatched = try Identification.evaluate(gallery: ImageSource(images), galleryLabels: [0, 1, 2], probes: ImageSource(images),
                                                     probeLabels: [0, 1, 2], probeModel: unaligned, galleryModel: teacher, extractor: extractor)
        #expect(aligned.rate(atRank: 1) == 1)
        #expect(mismatched.rate(atRank: 1) < 1)
    }

    @Test func invalidInputsAreRefused() {
        func kind(_ body: () throws -> IdentificationResult) -> EvaluationError.Kind? {
            do { _ = try body(); return nil } catch { return (error as? EvaluationError)?.kind }
        }
        #expect(kind { try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels, probes: Tensor([[1, 0]]), probeLabels: [7]) } == .probeNotInGallery)
        #expect(kind { try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels, probes: Tensor([[1, 0, 0]]), probeLabels: [0]) } == .mismatchedInput)
        #expect(kind { try Identification.evaluate(gallery: gallery, galleryLabels: [0, 1], probes: Tensor([[1, 0]]), probeLabels: [0]) } == .mismatchedInput)
        #expect(kind { try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels, probes: Tensor([[1, 0]]), probeLabels: [0], ranks: [0]) } == .invalidArgument)
        #expect(kind { try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels, probes: Tensor(shape: [0, 2], scalars: []), probeLabels: []) } == .emptyInput)
    }
}
