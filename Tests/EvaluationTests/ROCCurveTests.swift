import Testing
@testable import Evaluation

/// Hand-computed ROC fixtures: genuine 0.9 0.8 0.6 0.4, impostor 0.7 0.5 0.3 0.2.
struct ROCCurveTests {
    let scores: [Double] = [0.9, 0.7, 0.8, 0.5, 0.6, 0.3, 0.4, 0.2]
    let genuine = [true, false, true, false, true, false, true, false]

    @Test func pointsAreTheDistinctThresholdsInDecreasingOrder() throws {
        let roc = try ROCCurve(scores: scores, isGenuine: genuine)
        #expect(roc.points.map(\.threshold) == [.infinity, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
        #expect(roc.points.map(\.falseAcceptRate) == [0, 0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 1])
        #expect(roc.points.map(\.trueAcceptRate) == [0, 0.25, 0.5, 0.5, 0.75, 0.75, 1, 1, 1])
        #expect((roc.genuineCount, roc.impostorCount) == (4, 4))
    }

    @Test func areaIsTheFractionOfCorrectlyOrderedPairs() throws {
        // 13 of the 16 genuine–impostor pairs are ordered correctly.
        #expect(try ROCCurve(scores: scores, isGenuine: genuine).areaUnderCurve == 13.0 / 16.0)
    }

    @Test func equalErrorRateAtAnExactCrossing() throws {
        let eer = try ROCCurve(scores: scores, isGenuine: genuine).equalErrorRate
        #expect(eer == EqualErrorRate(rate: 0.25, threshold: 0.6))
    }

    @Test func equalErrorRateIsInterpolatedBetweenPoints() throws {
        // (FAR, FRR) goes (0, 1/3) → (1/2, 1/3): they cross at FAR = 1/3.
        let eer = try ROCCurve(scores: [0.9, 0.8, 0.7, 0.3, 0.1], isGenuine: [true, true, false, true, false]).equalErrorRate
        #expect(abs(eer.rate - 1.0 / 3.0) < 1e-15)
        #expect(eer.threshold == 0.7)
    }

    @Test func tiedScoresMoveTogether() throws {
        let roc = try ROCCurve(scores: [0.5, 0.5, 0.5, 0.2], isGenuine: [true, true, false, false])
        #expect(roc.points.map(\.falseAcceptRate) == [0, 0.5, 1])
        #expect(roc.points.map(\.trueAcceptRate) == [0, 1, 1])
        // A tie counts one half: (½ + 1 + ½ + 1) / 4.
        #expect(roc.areaUnderCurve == 0.75)
    }

    @Test func constantScoresAreChance() throws {
        let roc = try ROCCurve(scores: [1, 1, 1, 1], isGenuine: [true, false, true, false])
        #expect(roc.areaUnderCurve == 0.5)
        #expect(roc.equalErrorRate.rate == 0.5)
    }

    @Test func trueAcceptRateTakesTheLowestThresholdWithinTheTarget() throws {
        let roc = try ROCCurve(scores: scores, isGenuine: genuine)
        let quarter = try roc.trueAcceptRate(atFalseAcceptRate: 0.25)
        #expect(quarter == OperatingPoint(targetFalseAcceptRate: 0.25, threshold: 0.6, falseAcceptRate: 0.25, trueAcceptRate: 0.75))
        let between = try roc.trueAcceptRate(atFalseAcceptRate: 0.3)
        #expect((between.threshold, between.falseAcceptRate, between.trueAcceptRate) == (0.6, 0.25, 0.75))
        #expect(try roc.trueAcceptRate(atFalseAcceptRate: 0.5).trueAcceptRate == 1)
    }

    @Test func refusesAFarTheImpostorsCannotResolve() throws {
        let roc = try ROCCurve(scores: scores, isGenuine: genuine)
        #expect(throws: EvaluationError.self) { try roc.trueAcceptRate(atFalseAcceptRate: 0.1) }
        do {
            _ = try roc.trueAcceptRate(atFalseAcceptRate: 0.1)
        } catch let error as EvaluationError {
            #expect(error.kind == .farNotResolvable)
            #expect(error.message.contains("1/4"))
        }
        #expect(throws: EvaluationError.self) { try roc.trueAcceptRate(atFalseAcceptRate: 0) }
        #expect(throws: EvaluationError.self) { try roc.trueAcceptRate(atFalseAcceptRate: 1.5) }
    }

    @Test func degenerateInputsAreRefused() {
        func kind(_ body: () throws -> ROCCurve) -> EvaluationError.Kind? {
            do { _ = try body(); return nil } catch { return (error as? EvaluationError)?.kind }
        }
        #expect(kind { try ROCCurve(scores: [0.1, 0.2], isGenuine: [true, true]) } == .noImpostorPairs)
        #expect(kind { try ROCCurve(scores: [0.1, 0.2], isGenuine: [false, false]) } == .noGenuinePairs)
        #expect(kind { try ROCCurve(scores: [], isGenuine: []) } == .emptyInput)
        #expect(kind { try ROCCurve(scores: [0.1], isGenuine: [true, false]) } == .mismatchedInput)
        #expect(kind { try ROCCurve(scores: [.nan, 0.2], isGenuine: [true, false]) } == .nonFiniteValue)
    }

    @Test func simplifiedCurveKeepsCornersAndArea() throws {
        // Four impostors in a row below the genuine pairs: the interior of that straight run goes.
        let roc = try ROCCurve(scores: [0.9, 0.8, 0.4, 0.3, 0.2, 0.1], isGenuine: [true, true, false, false, false, false])
        let simple = roc.simplified()
        #expect(simple.points.map(\.threshold) == [.infinity, 0.9, 0.8, 0.1])
        #expect(simple.areaUnderCurve == roc.areaUnderCurve)
    }
}
