import Foundation
import Testing
import Tensor
@testable import Evaluation

/// The combined verification protocol on embeddings, scores and images.
struct VerificationTests {
    /// Unit vectors at the given angles (degrees).
    func circle(_ degrees: [Double]) -> Tensor {
        Tensor(degrees.map { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] })
    }

    @Test func embeddingsAndScoresGiveTheSameResult() throws {
        // Second images rotated from the first by: genuine 5°, 10°, 20°, 40°; impostor 30°, 60°, 90°, 120°.
        let first = circle(Array(repeating: 0, count: 8))
        let second = circle([5, 30, 10, 60, 20, 90, 40, 120])
        let issame = [true, false, true, false, true, false, true, false]
        let settings = VerificationSettings(kFold: KFoldVerification(folds: 2), falseAcceptRates: [0.25, 0.1])
        let fromEmbeddings = try Verification.evaluate(first: first, second: second, issame: issame, settings: settings)
        let cosines = try PairScores.cosineSimilarities(first, second)
        let fromScores = try Verification.evaluate(similarities: cosines, issame: issame, settings: settings)
        #expect(fromEmbeddings.kFold.foldAccuracies == fromScores.kFold.foldAccuracies)
        #expect(fromEmbeddings.areaUnderCurve == fromScores.areaUnderCurve)
        // Cosine order: 5, 10, 20 (genuine) > 30 (impostor) > 40 (genuine) > 60, 90, 120.
        #expect(fromEmbeddings.areaUnderCurve == 15.0 / 16.0)
        #expect(fromEmbeddings.equalErrorRate.rate == 0.25)
        #expect((fromEmbeddings.genuineCount, fromEmbeddings.impostorCount) == (4, 4))
        // FAR 0.25 is resolvable by 4 impostors (TAR 1 at the 40° pair), 0.1 is not.
        #expect(fromEmbeddings.trueAcceptRates[0].point?.trueAcceptRate == 1)
        #expect(fromEmbeddings.trueAcceptRates[1].point == nil)
        #expect(fromEmbeddings.trueAcceptRates[1].note?.contains("1/4") == true)
    }

    /// insightface normalises before its distances: embeddings of length 10 score as unit ones
    /// (before, their raw distances fell off the [0, 4) threshold grid and nothing was accepted).
    @Test func embeddingLengthDoesNotChangeTheKFoldAccuracy() throws {
        let first = circle(Array(repeating: 0, count: 10))
        let second = circle([20, 100, 20, 100, 20, 100, 20, 100, 20, 100])
        let issame = (0..<10).map { $0 % 2 == 0 }
        let settings = VerificationSettings(kFold: KFoldVerification(folds: 2), falseAcceptRates: [0.2])
        let unit = try Verification.evaluate(first: first, second: second, issame: issame, settings: settings)
        let long = try Verification.evaluate(first: first * 10, second: second * 10, issame: issame, settings: settings)
        #expect(unit.kFold.meanAccuracy == 1)
        #expect(long.kFold.meanAccuracy == 1)
        #expect(zip(long.kFold.bestThresholds, unit.kFold.bestThresholds).allSatisfy { abs($0 - $1) < 1e-9 })
    }

    @Test func similaritiesMustBeCosines() {
        let issame = (0..<10).map { $0 < 5 }
        let error = #expect(throws: EvaluationError.self) {
            try Verification.evaluate(similarities: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1.5], issame: issame)
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("[-1, 1]") == true)
        let nan = #expect(throws: EvaluationError.self) {
            try Verification.evaluate(similarities: [.nan] + Array(repeating: 0.5, count: 9), issame: issame)
        }
        #expect(nan?.kind == .nonFiniteValue)
        // Rounding just past ±1 (a cosine computed in floating point) is accepted.
        #expect(throws: Never.self) {
            try Verification.evaluate(similarities: [1 + 1e-12, 0.9, 0.8, 0.7, 0.6, 0, -0.1, -0.2, -0.3, -1 - 1e-12], issame: issame,
                                      settings: VerificationSettings(kFold: KFoldVerification(folds: 2), falseAcceptRates: [0.2]))
        }
    }

    @Test func modelsOfDifferentDimensionCannotBeCompared() {
        let images = ImageSource(Tensor.ones([2, 1, 1, 4]))
        #expect(throws: EvaluationError.self) {
            try Verification.evaluate(first: images, second: images, issame: [true, false],
                                      probeModel: { $0.flattened() }, galleryModel: { $0.flattened().sliced(axis: 1, 0..<2) })
        }
        #expect(throws: EvaluationError.self) {
            try Verification.evaluate(first: images, second: images, issame: [true], probeModel: { $0.flattened() })
        }
    }
}
