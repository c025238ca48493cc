import Foundation
import Tensor
import Layers
import Optim
import Losses
import Datasets

/// The digits experiment of ADDA (Tzeng, Hoffman, Saenko, Darrell, "Adversarial Discriminative
/// Domain Adaptation", CVPR 2017, Table 2): MNIST → USPS and USPS → MNIST with LeNet, trained on
/// 2000 randomly drawn MNIST and 1800 USPS training digits, tested on the target's test set.
///
/// Per direction and seed (the seed fixes the drawn subsets, the initialisation, the batch
/// order and the dropout masks):
/// - **source only**: LeNet encoder `M_s` + classifier `C` trained on the labelled source,
///   tested as `C(M_s(x_t))`;
/// - **ADDA**: the target encoder `M_t` starts as a copy of `M_s`; `M_s` and `C` stay fixed; a
///   500-500-2 critic and `M_t` are trained alternately (``DistillationTask`` with the frozen
///   source encoder as teacher, `M_t` as student and the ``ADDA`` transfer term: critic step on
///   detached features with source 1 / target 0, then the encoder step with inverted labels),
///   each with its own Adam (corenel/pytorch-adda: lr 1e-4, β = (0.5, 0.9), batch 50); tested
///   as `C(M_t(x_t))`;
/// - **DANN** (gradient reversal): a fresh encoder + classifier from the same initialisation,
///   trained on the labelled source plus the domain loss of both domains through the reversal
///   layer (``DigitsDANNTask``), tested as `C(E(x_t))`.
public struct DigitsExperiment {
    public enum Direction: String, Codable, Sendable, CaseIterable {
        case mnistToUSPS = "mnist-usps"
        case uspsToMNIST = "usps-mnist"

        public var title: String { self == .mnistToUSPS ? "MNIST→USPS" : "USPS→MNIST" }
    }

    public enum Method: String, Codable, Sendable, CaseIterable {
        case sourceOnly = "source-only"
        case adda
        case dann

        public var title: String {
            switch self {
            case .sourceOnly: return "Source only"
            case .adda: return "ADDA"
            case .dann: return "Gradient reversal (DANN)"
            }
        }
    }

    /// How the LeNet convolution weights start.
    public enum ConvolutionInit: String, Codable, Sendable {
        /// PyTorch's default (`kaiming_uniform_(a = √5)`).
        case pytorch
        /// corenel/pytorch-adda's `init_weights`: `N(0, 0.02)` for every convolution weight.
        case normal
    }

    /// The paper's Table 2 (mean ± std): `paper[direction][method]`.
    public static let paper: [Direction: [Method: (mean: Double, std: Double)]] = [
        .mnistToUSPS: [.sourceOnly: (0.752, 0.016), .dann: (0.771, 0.018), .adda: (0.894, 0.002)],
        .uspsToMNIST: [.sourceOnly: (0.571, 0.017), .dann: (0.730, 0.020), .adda: (0.901, 0.008)],
    ]

    /// Everything that determines the numbers.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Training digits drawn per seed (the paper's 2000 MNIST / 1800 USPS).
        public var mnistTrainingSamples = 2000
        public var uspsTrainingSamples = 1800
        /// How USPS's 16×16 digits are brought to MNIST's 28×28: resized to `uspsBox²` with
        /// `uspsInterpolation` and centred on a black 28×28 frame (28: the digit fills the frame,
        /// as the usual upscaling does; 20 mimics MNIST's 20×20 digit box).
        public var uspsBox = 28
        public var uspsInterpolation = Interpolation.bilinear
        /// Images per domain per step (corenel/pytorch-adda: 50).
        public var batchSize = 50
        public var convolutionInit = ConvolutionInit.pytorch
        /// Adam's β for every optimiser (corenel: (0.5, 0.9); erictzeng/adda: (0.5, 0.999)).
        public var beta1: Float = 0.5
        public var beta2: Float = 0.9
        /// Source pre-training (also the source-only baseline): 25 epochs of the 2000 MNIST
        /// digits (corenel: lr 1e-4 for 100 epochs; lr 1e-3 gets as far in a quarter of the steps).
        public var sourceSteps = 1000
        public var sourceLearningRate: Float = 1e-3
        /// ADDA's adversarial stage (corenel: 2000 epochs ≈ 72k steps; the target accuracy is at
        /// the paper's level after about 2500).
        public var adaptationSteps = 2500
        public var encoderLearningRate: Float = 1e-4
        public var criticLearningRate: Float = 1e-4
        /// Hidden widths of the ADDA critic and of the DANN domain head (ReLU MLPs).
        public var criticHidden = [500, 500]
        /// DANN: steps, learning rate, domain-loss weight and the λ schedule's γ (steps and
        /// learning rate as the source-only model's, so the domain loss is the only difference).
        public var dannSteps = 1000
        public var dannLearningRate: Float = 1e-3
        public var dannWeight: Float = 1
        public var dannGamma: Float = 10
        public var directions = Direction.allCases
        public var methods = Method.allCases
        public var seeds: [UInt64] = [1, 2, 3]
        /// Steps between target-test evaluations during training, for learning curves (0: off).
        public var curveEvery = 0

        public init() {}

        /// A smoke run of well under a minute: one seed, few steps.
        public static var quick: Configuration {
            var c = Configuration()
            c.sourceSteps = 40
            c.adaptationSteps = 20
            c.dannSteps = 20
            c.seeds = [1]
            return c
        }

        /// Checks values a user may set, naming the bad one.
        public func validate() throws {
            func require(_ condition: Bool, _ message: String) throws {
                if !condition { throw TrainingError.invalidConfiguration(message) }
            }
            try require(uspsBox >= 1 && uspsBox <= 28, "uspsBox must be in 1...28, got \(uspsBox)")
            // Steps and counts as a training run's steps: whole numbers up to SettingChecks.maximumCount.
            try SettingChecks.count(mnistTrainingSamples, "mnistTrainingSamples", minimum: 1)
            try SettingChecks.count(uspsTrainingSamples, "uspsTrainingSamples", minimum: 1)
            try SettingChecks.count(sourceSteps, "sourceSteps", minimum: 1)
            try SettingChecks.count(adaptationSteps, "adaptationSteps", minimum: 0)
            try SettingChecks.count(dannSteps, "dannSteps", minimum: 0)
            try require(batchSize >= 1 && batchSize <= min(mnistTrainingSamples, uspsTrainingSamples),
                        "batchSize must be in 1...\(min(mnistTrainingSamples, uspsTrainingSamples)), got \(batchSize)")
            try require(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "beta1 and beta2 must be in [0, 1), got \(beta1), \(beta2)")
            for (name, value) in [("sourceLearningRate", sourceLearningRate), ("encoderLearningRate", encoderLearningRate),
                                  ("criticLearningRate", criticLearningRate), ("dannLearningRate", dannLearningRate)] {
                try require(value > 0 && value.isFinite, "\(name) must be positive, got \(value)")
            }
            // The LeNet encoders' 500-d features in, two domains out.
            let problem = TransferSpec.Limits.criticProblem(inputDimension: 500, hidden: criticHidden, outputs: 2)
            try require(problem == nil, "criticHidden \(problem ?? "")")
            try require(dannWeight >= 0 && dannWeight.isFinite && dannGamma >= 0 && dannGamma.isFinite, "dannWeight and dannGamma must be finite and non-negative")
            try require(!directions.isEmpty && !methods.isEmpty, "directions and methods must not be empty")
            try SettingChecks.seeds(seeds, "seeds")
            try require(Set(directions).count == directions.count && Set(methods).count == methods.count,
                        "directions and methods must be distinct, got \(directions.map(\.rawValue)) and \(methods.map(\.rawValue))")
            // A curve point at step 0 and every curveEvery steps of a stage.
            try require(curveEvery >= 0, "curveEvery must not be negative, got \(curveEvery)")
            try require(curveEvery <= longestStage,
                        "curveEvery (--curve) \(curveEvery) is larger than the longest training stage (\(longestStage) steps), so the curve would hold step 0 only; use at most \(longestStage)")
        }

        /// The steps of the longest training stage the methods run (the source stage serves source
        /// only and ADDA).
        public var longestStage: Int {
            var steps: [Int] = []
            if methods.contains(.sourceOnly) || methods.contains(.adda) { steps.append(sourceSteps) }
            if methods.contains(.adda) { steps.append(adaptationSteps) }
            if methods.contains(.dann) { steps.append(dannSteps) }
            return steps.max() ?? 0
        }
    }

    /// Target-test accuracy after `step` training steps.
    public struct CurvePoint: Codable, Sendable, Equatable {
        public var step: Int
        public var accuracy: Double
    }

    /// One trained model.
    public struct Run: Codable, Sendable {
        public var direction: Direction
        public var method: Method
        public var seed: UInt64
        /// Classification accuracy on the target domain's test set.
        public var targetAccuracy: Double
        /// The same per digit `0…9`.
        public var targetClassAccuracies: [Double]
        /// Accuracy on the source domain's test set of the model the method deploys on source
        /// images (ADDA's: `C(M_s)`, the pre-trained source model).
        public var sourceAccuracy: Double
        /// Training time of this method's own stage (ADDA: the adversarial stage only).
        public var seconds: Double
        /// Loss terms of the last step.
        public var finalTerms: [String: Float]
        public var curve: [CurvePoint]

        public init(direction: Direction, method: Method, seed: UInt64, targetAccuracy: Double, targetClassAccuracies: [Double] = [],
                    sourceAccuracy: Double, seconds: Double, finalTerms: [String: Float], curve: [CurvePoint]) {
            self.direction = direction
            self.method = method
            self.seed = seed
            self.targetAccuracy = targetAccuracy
            self.targetClassAccuracies = targetClassAccuracies
            self.sourceAccuracy = sourceAccuracy
            self.seconds = seconds
            self.finalTerms = finalTerms
            self.curve = curve
        }
    }

    /// Mean and spread of one method in one direction over the seeds.
    public struct Summary: Codable, Sendable {
        public var direction: Direction
        public var method: Method
        public var accuracies: [Double]
        public var mean: Double
        /// Sample standard deviation (`n − 1`); `nil` for one seed, which has none (and is left out
        /// of `result.json`).
        public var standardDeviation: Double?
        public var paperMean: Double?
        public var paperStandardDeviation: Double?
    }

    public struct Result: Codable, Sendable {
        public var configuration: Configuration
        public var runs: [Run]
        public var summaries: [Summary]
        public var seconds: Double
    }

    public let configuration: Configuration
    /// Progress lines (default: standard output).
    public var say: (String) -> Void = { print($0) }
    /// Steps between progress lines of each training stage (0: no progress reporting).
    public var progressInterval = 500
    /// A folder for one JSON-lines metrics log per training stage (`nil`: none).
    public var logFolder: String?

    public init(configuration: Configuration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// The digit sets in `folder` (laid out as ``DigitsData``), prepared as configured.
    public func loadData(folder: String) throws -> DigitsData {
        try DigitsData.load(folder: folder, side: 28, uspsBox: configuration.uspsBox, interpolation: configuration.uspsInterpolation)
    }

    /// Throws unless a batch fits the training digits a run draws from `data` (the sample counts
    /// asked for, or all of a smaller set): checked before a run folder is created.
    public func check(_ data: DigitsData) throws {
        let c = configuration
        let available = min(min(c.mnistTrainingSamples, data.mnistTrain.count), min(c.uspsTrainingSamples, data.uspsTrain.count))
        guard c.batchSize <= available else {
            throw TrainingError.invalidConfiguration(
                "batchSize \(c.batchSize) is larger than the \(available) training digits of the smaller set (MNIST \(data.mnistTrain.count), USPS \(data.uspsTrain.count) loaded)")
        }
    }

    /// Runs every direction, seed and method on `data`.
    public func run(data: DigitsData) throws -> Result {
        try check(data)
        let started = Date()
        var runs: [Run] = []
        for direction in configuration.directions {
            for seed in configuration.seeds { runs += try run(direction, seed: seed, data: data) }
        }
        return Result(configuration: configuration, runs: runs, summaries: Self.summaries(runs, configuration: configuration),
                      seconds: Date().timeIntervalSince(started))
    }

    /// The methods of one direction and seed.
    public func run(_ direction: Direction, seed: UInt64, data: DigitsData) throws -> [Run] {
        let c = configuration
        let mnistToUSPS = direction == .mnistToUSPS
        let key: UInt64 = mnistToUSPS ? 1 : 2
        var sampling = RandomGenerator(seed: seed, stream: 0x5341_4D50, key)
        let mnist = data.mnistTrain.sampled(c.mnistTrainingSamples, using: &sampling)
        let usps = data.uspsTrain.sampled(c.uspsTrainingSamples, using: &sampling)
        let (source, target) = mnistToUSPS ? (mnist, usps) : (usps, mnist)
        let (sourceTest, targetTest) = mnistToUSPS ? (data.mnistTest, data.uspsTest) : (data.uspsTest, data.mnistTest)
        let batches = DigitsPairedBatches(source: source, target: target, batchSize: c.batchSize, seed: seed &* 0x9E37_79B9 &+ key)
        let prefix = "\(direction.rawValue) seed \(seed)"
        say("\(prefix): \(source.count) labelled source + \(target.count) unlabelled target training digits; \(targetTest.count) target test digits")
        var runs: [Run] = []

        if c.methods.contains(.sourceOnly) || c.methods.contains(.adda) {
            let (encoder, classifier) = makeModel(side: source.side, seed: seed, key: key)
            let task = DigitsSourceTask(encoder: encoder, classifier: classifier,
                                        optimizer: adam(encoder.parameters() + classifier.parameters(), c.sourceLearningRate))
            let (summary, curve) = try train(task, steps: c.sourceSteps, batches: batches, label: "\(prefix) source",
                                             evaluate: { Self.accuracy(encoder: encoder, classifier: classifier, on: targetTest) })
            let sourceAccuracy = Self.accuracy(encoder: encoder, classifier: classifier, on: sourceTest)
            let (targetAccuracy, perDigit) = Self.scores(Self.predictions(encoder: encoder, classifier: classifier, on: targetTest), targetTest)
            say("\(prefix) source only: target accuracy \(Self.format(targetAccuracy)) (source test \(Self.format(sourceAccuracy)))")
            if c.methods.contains(.sourceOnly) {
                runs.append(Run(direction: direction, method: .sourceOnly, seed: seed, targetAccuracy: targetAccuracy,
                                targetClassAccuracies: perDigit, sourceAccuracy: sourceAccuracy,
                                seconds: summary.seconds, finalTerms: Self.terms(summary), curve: curve))
            }
            if c.methods.contains(.adda) {
                var rng = RandomGenerator(seed: seed, stream: 0x4144_4441, key)
                let targetEncoder = LeNetEncoder(inputSize: source.side, using: &rng)
                try targetEncoder.load(stateDict: encoder.stateDict(), source: "source encoder")
                let critic = DomainDiscriminator(inputDimension: targetEncoder.fc1.outFeatures, hidden: c.criticHidden, activation: .relu, using: &rng)
                let transfer = WeightedTransferLoss([(1, ADDA(critic: critic))])
                let adda = DistillationTask(teacher: encoder, student: targetEncoder, head: nil, transfer: transfer,
                                            optimizer: adam(targetEncoder.parameters(), c.encoderLearningRate),
                                            criticOptimizer: adam(transfer.criticParameters, c.criticLearningRate))
                let (addaSummary, addaCurve) = try train(adda, steps: c.adaptationSteps, batches: batches, label: "\(prefix) adda",
                                                         evaluate: { Self.accuracy(encoder: targetEncoder, classifier: classifier, on: targetTest) })
                let (accuracy, perDigit) = Self.scores(Self.predictions(encoder: targetEncoder, classifier: classifier, on: targetTest), targetTest)
                say("\(prefix) ADDA: target accuracy \(Self.format(accuracy))")
                runs.append(Run(direction: direction, method: .adda, seed: seed, targetAccuracy: accuracy,
                                targetClassAccuracies: perDigit, sourceAccuracy: sourceAccuracy,
                                seconds: addaSummary.seconds, finalTerms: Self.terms(addaSummary), curve: addaCurve))
            }
        }

        if c.methods.contains(.dann) {
            let (encoder, classifier) = makeModel(side: source.side, seed: seed, key: key)
            var rng = RandomGenerator(seed: seed, stream: 0x4441_4E4E, key)
            let head = DomainDiscriminator(inputDimension: encoder.fc1.outFeatures, hidden: c.criticHidden, activation: .relu, using: &rng)
            let domain = DANN(domainHead: head, strength: .schedule(gamma: c.dannGamma))
            let task = DigitsDANNTask(encoder: encoder, classifier: classifier, domain: domain, domainWeight: c.dannWeight,
                                      optimizer: adam(DigitsDANNTask.parameters(encoder: encoder, classifier: classifier, domain: domain), c.dannLearningRate))
            let (summary, curve) = try train(task, steps: c.dannSteps, batches: batches, label: "\(prefix) dann",
                                             evaluate: { Self.accuracy(encoder: encoder, classifier: classifier, on: targetTest) })
            let (accuracy, perDigit) = Self.scores(Self.predictions(encoder: encoder, classifier: classifier, on: targetTest), targetTest)
            let sourceAccuracy = Self.accuracy(encoder: encoder, classifier: classifier, on: sourceTest)
            say("\(prefix) DANN: target accuracy \(Self.format(accuracy)) (source test \(Self.format(sourceAccuracy)))")
            runs.append(Run(direction: direction, method: .dann, seed: seed, targetAccuracy: accuracy,
                            targetClassAccuracies: perDigit, sourceAccuracy: sourceAccuracy,
                            seconds: summary.seconds, finalTerms: Self.terms(summary), curve: curve))
        }
        return runs
    }

    /// The class `argmax classifier(encoder(x))` of every image of `set`, both modules in
    /// evaluation mode (they are left in it), without a tape.
    public static func predictions(encoder: any FeatureExtractor, classifier: any Layer, on set: DigitSet, batchSize: Int = 500) -> [Int] {
        encoder.eval()
        classifier.eval()
        return withoutGradients {
            stride(from: 0, to: set.count, by: batchSize).flatMap { start in
                classifier(encoder(set.images.narrowed(axis: 0, start: start, length: min(batchSize, set.count - start)))).argmax(alongAxis: 1)
            }
        }
    }

    /// Classification accuracy of `classifier(encoder(x))` on `set` (see ``predictions(encoder:classifier:on:batchSize:)``).
    public static func accuracy(encoder: any FeatureExtractor, classifier: any Layer, on set: DigitSet, batchSize: Int = 500) -> Double {
        scores(predictions(encoder: encoder, classifier: classifier, on: set, batchSize: batchSize), set).accuracy
    }

    /// The accuracy of `predicted` classes against `set`'s labels, overall and per digit `0…9`
    /// (`nan` for a digit without samples).
    public static func scores(_ predicted: [Int], _ set: DigitSet) -> (accuracy: Double, perDigit: [Double]) {
        precondition(predicted.count == set.count, "DigitsExperiment.scores: \(predicted.count) predictions for \(set.count) digits")
        var correct = [Int](repeating: 0, count: 10), total = [Int](repeating: 0, count: 10)
        for (p, label) in zip(predicted, set.labels) {
            total[label] += 1
            if p == label { correct[label] += 1 }
        }
        return (Double(correct.reduce(0, +)) / Double(set.count), (0..<10).map { Double(correct[$0]) / Double(total[$0]) })
    }

    /// Mean and sample standard deviation per direction and method, in configuration order.
    public static func summaries(_ runs: [Run], configuration c: Configuration) -> [Summary] {
        c.directions.flatMap { direction in
            c.methods.compactMap { method -> Summary? in
                let accuracies = runs.filter { $0.direction == direction && $0.method == method }.map(\.targetAccuracy)
                guard !accuracies.isEmpty else { return nil }
                let mean = accuracies.reduce(0, +) / Double(accuracies.count)
                let deviation = accuracies.count > 1
                    ? (accuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(accuracies.count - 1)).squareRoot() : nil
                let paper = Self.paper[direction]?[method]
                return Summary(direction: direction, method: method, accuracies: accuracies, mean: mean, standardDeviation: deviation,
                               paperMean: paper?.mean, paperStandardDeviation: paper?.std)
            }
        }
    }

    // MARK: - Pieces

    /// LeNet encoder + classifier, initialised from `(seed, direction)` (the same for the
    /// source model and DANN).
    private func makeModel(side: Int, seed: UInt64, key: UInt64) -> (LeNetEncoder, LeNetClassifier) {
        var rng = RandomGenerator(seed: seed, stream: 0x4C45_4E45, key)
        let encoder = LeNetEncoder(inputSize: side, using: &rng)
        let classifier = LeNetClassifier(using: &rng)
        if configuration.convolutionInit == .normal {
            for conv in encoder.encoder.layers.compactMap({ $0 as? Conv2d }) {
                conv.weight.value = Tensor.randomNormal(conv.weight.shape, standardDeviation: 0.02, using: &rng)
            }
        }
        return (encoder, classifier)
    }

    private func adam(_ parameters: [Parameter], _ learningRate: Float) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, beta1: configuration.beta1, beta2: configuration.beta2, epsilon: 1e-8)
    }

    /// Runs one stage with progress, an optional metrics log and the optional learning curve.
    private func train(_ task: any TrainingTask, steps: Int, batches: DigitsPairedBatches, label: String,
                       evaluate: @escaping () -> Double) throws -> (TrainingLoop.Summary, [CurvePoint]) {
        let log = try logFolder.map { try MetricsLog(path: ($0 as NSString).appendingPathComponent(label.replacingOccurrences(of: " ", with: "-") + ".jsonl")) }
        let every = configuration.curveEvery
        let curve = CurveRecorder()
        let loop = TrainingLoop(steps: steps, log: log,
                                progress: progressInterval > 0 ? ProgressReporter(label: label, total: steps, lineInterval: progressInterval) : nil,
                                evaluateEvery: every > 0 ? every : nil,
                                evaluate: every > 0 ? { step in ["target_accuracy": curve.record(step, evaluate())] } : nil)
        if every > 0 { _ = curve.record(0, evaluate()) }
        let summary = try loop.run(task, batches: batches)
        return (summary, curve.points)
    }

    /// Collects the learning curve from the training loop's evaluation callback.
    private final class CurveRecorder {
        var points: [CurvePoint] = []
        func record(_ step: Int, _ accuracy: Double) -> Double {
            points.append(CurvePoint(step: step, accuracy: accuracy))
            return accuracy
        }
    }

    private static func terms(_ summary: TrainingLoop.Summary) -> [String: Float] {
        Dictionary(summary.lastTerms.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
    }

    static func format(_ accuracy: Double) -> String { String(format: "%.3f", accuracy) }
}
