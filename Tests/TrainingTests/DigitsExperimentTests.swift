import Foundation
import Testing
import CrossRes

/// 16×16 "digits" whose class is a bright column (column 2·label), plus a per-domain brightness
/// shift; row `i` has label `i mod 10`.
func columnDigits(_ name: String, count: Int, shift: Float) -> DigitSet {
    let side = 16
    let images = Tensor(shape: [count, 1, side, side]) { out in
        for i in 0..<count {
            for y in 0..<side { for x in 0..<side { out[(i * side + y) * side + x] = (x == 2 * (i % 10) % side ? 1 : -1) + shift } }
        }
    }
    return DigitSet(name: name, images: images, labels: (0..<count).map { $0 % 10 })
}

@Suite struct DigitsExperimentTests {
    let data = DigitsData(mnistTrain: columnDigits("mnist train", count: 20, shift: 0), mnistTest: columnDigits("mnist test", count: 10, shift: 0),
                          uspsTrain: columnDigits("usps train", count: 20, shift: 0.3), uspsTest: columnDigits("usps test", count: 10, shift: 0.3))

    func tinyConfiguration() -> DigitsExperiment.Configuration {
        var c = DigitsExperiment.Configuration()
        c.mnistTrainingSamples = 15
        c.uspsTrainingSamples = 12
        c.batchSize = 5
        c.sourceSteps = 4
        c.adaptationSteps = 3
        c.dannSteps = 3
        c.sourceLearningRate = 1e-3
        c.criticHidden = [8]
        c.directions = [.mnistToUSPS]
        c.seeds = [1]
        c.curveEvery = 2
        return c
    }

    func quietExperiment(_ c: DigitsExperiment.Configuration) throws -> DigitsExperiment {
        var experiment = try DigitsExperiment(configuration: c)
        experiment.say = { _ in }
        experiment.progressInterval = 0
        return experiment
    }

    @Test func aFewStepsOfEveryMethodRunAndAreReproducible() throws {
        let c = tinyConfiguration()
        let result = try quietExperiment(c).run(data: data)
        #expect(result.runs.map(\.method) == [.sourceOnly, .adda, .dann])
        for run in result.runs {
            #expect((0...1).contains(run.targetAccuracy) && (0...1).contains(run.sourceAccuracy))
            #expect(run.finalTerms.values.allSatisfy { $0.isFinite })
            #expect(run.targetClassAccuracies.count == 10)
        }
        #expect(Set(result.runs[0].finalTerms.keys) == ["classification"])
        #expect(Set(result.runs[1].finalTerms.keys) == ["critic", "critic_accuracy", "adda"])
        #expect(Set(result.runs[2].finalTerms.keys) == ["classification", "domain", "lambda"])
        #expect(result.runs[2].finalTerms["lambda"]! > 0.99, "λ reaches ≈1 at the end of the schedule")
        #expect(result.runs[0].curve.map(\.step) == [0, 2, 4] && result.runs[1].curve.map(\.step) == [0, 2, 3])
        #expect(result.runs[1].curve[0].accuracy == result.runs[0].targetAccuracy, "ADDA's target encoder starts as the source encoder")
        #expect(result.summaries.count == 3 && result.summaries.allSatisfy { $0.paperMean != nil })
        #expect(result.markdown.contains("| ADDA | "))
        // One seed: its accuracy alone, in the table and in result.json.
        let adda = String(format: "%.3f", result.runs[1].targetAccuracy)
        #expect(result.markdown.contains("| ADDA | \(adda) | 0.894 ± 0.002 |") && result.markdown.contains("of seed 1 (one seed: no standard deviation)"))
        #expect(!String(decoding: try JSONEncoder().encode(result), as: UTF8.self).contains("standardDeviation"))

        let again = try quietExperiment(c).run(data: data)
        #expect(again.runs.map(\.targetAccuracy) == result.runs.map(\.targetAccuracy))
        #expect(again.runs.map(\.finalTerms) == result.runs.map(\.finalTerms))
    }

    @Test func summariesAreMeanAndSampleStandardDeviation() {
        var c = tinyConfiguration()
        c.methods = [.adda]
        let runs = [0.8, 0.9, 1.0].enumerated().map { i, accuracy in
            DigitsExperiment.Run(direction: .mnistToUSPS, method: .adda, seed: UInt64(i), targetAccuracy: accuracy, sourceAccuracy: 1,
                                 seconds: 0, finalTerms: [:], curve: [])
        }
        let summary = DigitsExperiment.summaries(runs, configuration: c)
        #expect(summary.count == 1)
        #expect(abs(summary[0].mean - 0.9) < 1e-12 && abs((summary[0].standardDeviation ?? 0) - 0.1) < 1e-12)
        #expect(summary[0].paperMean == 0.894)
        // One seed has no standard deviation: none is reported (not 0).
        let one = DigitsExperiment.summaries(Array(runs.prefix(1)), configuration: c)
        #expect(one[0].mean == 0.8 && one[0].standardDeviation == nil)
    }

    @Test func accuracyCountsArgmaxMatches() {
        let set = columnDigits("test", count: 10, shift: 0)
        // Column 2·label is bright: the "network" reads the argmax column (halved) as the class.
        let reader = ColumnReader()
        #expect(DigitsExperiment.accuracy(encoder: reader, classifier: reader.head, on: set, batchSize: 3) == 0.8,
                "labels 8 and 9 have their columns at 16 and 18 (wrapped to 0 and 2), read as 0 and 1")
    }

    @Test func scoresAreOverallAndPerDigit() {
        let set = columnDigits("test", count: 20, shift: 0)   // two of each digit
        var predicted = set.labels
        predicted[3] = 0        // one of the two 3s wrong
        predicted[7] = 1        // one 7 wrong
        predicted[17] = 2       // the other 7 wrong
        let (accuracy, perDigit) = DigitsExperiment.scores(predicted, set)
        #expect(accuracy == 17.0 / 20)
        #expect(perDigit == [1, 1, 1, 0.5, 1, 1, 1, 0, 1, 1])
    }

    @Test func badConfigurationsAreRejectedWithTheirName() {
        var c = tinyConfiguration()
        c.batchSize = 20
        #expect(throws: TrainingError.self) { try DigitsExperiment(configuration: c) }
        c = tinyConfiguration()
        c.encoderLearningRate = 0
        do { _ = try DigitsExperiment(configuration: c); Issue.record("zero learning rate accepted") } catch {
            #expect("\(error)".contains("encoderLearningRate"))
        }
    }
}

/// Embedding = the mean over rows of each even column (`[N, 8]`); the head passes it through.
final class ColumnReader: FeatureExtractor {
    final class Head: Layer { func callAsFunction(_ x: Tensor) -> Tensor { x } }
    let head = Head()
    func features(_ x: Tensor) -> Features {
        let columns = x.mean(alongAxes: [1, 2], keepingDimensions: false)   // [N, 16]
        return Features(embedding: columns.indexSelect(axis: 1, [0, 2, 4, 6, 8, 10, 12, 14]))
    }
}
