import Testing
import Tensor
@testable import Evaluation

/// The sweep driver on the synthetic fixture: which images each mode uses and what it measures.
struct CrossResolutionSweepTests {
    let world = SweepFixture()
    let sweep = CrossResolutionSweep(extractor: EmbeddingExtractor(flipTestTimeAugmentation: false))

    func verificationReport(galleryModel: EmbeddingModel?, calls: inout [String]) throws -> SweepReport {
        let pairs = world.pairs
        return try sweep.run(.verification(issame: pairs.issame), probeModel: SweepFixture.student, galleryModel: galleryModel) { side, resolution in
            calls.append("\(side.rawValue)@\(resolution)")
            return side == .gallery ? world.images(pairs.first, resolution: resolution, noiseOffset: 0)
                                    : world.images(pairs.second, resolution: resolution, noiseOffset: 40)
        }
    }

    @Test func everyModeAtEverySize() throws {
        var calls: [String] = []
        let report = try verificationReport(galleryModel: SweepFixture.teacher, calls: &calls)
        #expect(report.entries.count == 7 * 3)
        #expect(report.modes == SweepMode.allCases)
        #expect(report.entries.allSatisfy { $0.verification != nil && $0.identification == nil })
        // Gallery at every probe size (LR-vs-LR) plus the native gallery for the teacher, probes
        // at every size: each (side, size, model) is embedded once.
        #expect(calls.filter { $0.hasPrefix("probe") }.count == 7)
        #expect(calls.filter { $0 == "gallery@native" }.count == 2)
        #expect(calls.count == 7 + 7 + 1)
    }

    @Test func modesMeasureWhatTheyPromise() throws {
        var calls: [String] = []
        let report = try verificationReport(galleryModel: SweepFixture.teacher, calls: &calls)
        let native = report.entry(.hrVsLr, .native)!.headline
        // Undegraded identical images: perfect. Degradation can only hurt.
        #expect(native == 1)
        #expect(report.entry(.hrVsLr, .pixels(8))!.headline < native)
        #expect(report.entry(.lrVsLr, .native)! .verification == report.entry(.hrVsLr, .native)!.verification)
        // The teacher's space is unrelated to the student's: cross-model comparison fails.
        #expect(report.entry(.crossModel, .native)!.headline < 0.9)
    }

    @Test func alignedTeacherMakesCrossModelWork() throws {
        var calls: [String] = []
        let report = try verificationReport(galleryModel: SweepFixture.student, calls: &calls)
        #expect(report.entry(.crossModel, .native)!.verification == report.entry(.hrVsLr, .native)!.verification)
    }

    @Test func withoutAGalleryModelTheCrossModelColumnIsDropped() throws {
        var calls: [String] = []
        let report = try verificationReport(galleryModel: nil, calls: &calls)
        #expect(report.modes == [.lrVsLr, .hrVsLr])
        #expect(report.entries.count == 14)
    }

    @Test func identificationSweep() throws {
        let gallery = Array(0..<10), probes = (0..<20).map { $0 % 10 }
        let report = try CrossResolutionSweep(resolutions: [.pixels(4), .native], extractor: EmbeddingExtractor(flipTestTimeAugmentation: false))
            .run(.identification(galleryLabels: gallery, probeLabels: probes), probeModel: SweepFixture.student) { side, resolution in
                side == .gallery ? world.images(gallery, resolution: resolution, noiseOffset: 0)
                                 : world.images(probes, resolution: resolution, noiseOffset: 40)
            }
        #expect(report.task == "identification")
        #expect(report.entry(.hrVsLr, .native)!.identification!.rate(atRank: 1) == 1)
        #expect(report.entry(.hrVsLr, .pixels(4))!.identification!.cmc.count == 10)
    }

    @Test func mismatchedImageCountsAreReported() {
        #expect(throws: EvaluationError.self) {
            try sweep.run(.verification(issame: [true, false, true]), probeModel: SweepFixture.student) { _, r in
                world.images([0, 1], resolution: r, noiseOffset: 0)
            }
        }
    }
}
