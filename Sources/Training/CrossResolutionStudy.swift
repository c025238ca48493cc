import Foundation
import Tensor
import Layers
import Optim
import Losses
import Datasets
import Evaluation

/// The experiment CrossRes exists for: train an HR teacher, train LR students with no transfer
/// and with each transfer family, and compare them across probe resolutions — LR-vs-LR, and
/// the deployment case of an HR gallery embedded by the teacher against LR probes embedded by
/// the student (cross-model), where only transfer can align the two embedding spaces.
///
/// Students trained from scratch (their own initialisation) and students initialised from the
/// teacher are reported as separate families: a shared initialisation alone aligns the spaces
/// and must not be mistaken for the effect of a loss.
public struct CrossResolutionStudy {
    /// How a student starts.
    public enum Initialisation: String, Codable, Sendable {
        /// Its own random initialisation (seeded by the run's seed).
        case scratch
        /// A copy of the teacher's weights (same architecture).
        case teacher
    }

    /// One row of the comparison: a transfer spec and an initialisation.
    public struct Family: Codable, Sendable, Equatable {
        public var name: String
        /// A ``TransferSpec`` string; empty for the no-transfer baseline.
        public var transfer: String
        public var initialisation: Initialisation

        public init(name: String, transfer: String, initialisation: Initialisation = .scratch) {
            self.name = name
            self.transfer = transfer
            self.initialisation = initialisation
        }

        /// Baseline, every transfer family, one combination, and two teacher-initialised rows.
        public static let standard: [Family] = [
            Family(name: "baseline", transfer: ""),
            Family(name: "l2", transfer: "l2=5"),
            Family(name: "nst", transfer: "nst=50"),
            Family(name: "darkrank", transfer: "darkrank-soft=1"),
            Family(name: "guided-cnn", transfer: "guided-cnn"),
            Family(name: "adda", transfer: "adda"),
            Family(name: "dann", transfer: "dann"),
            Family(name: "l2+nst", transfer: "l2=5,nst=50"),
            Family(name: "baseline (teacher init)", transfer: "", initialisation: .teacher),
            Family(name: "l2 (teacher init)", transfer: "l2=5", initialisation: .teacher),
        ]
    }

    /// Everything that determines a study's numbers.
    public struct Configuration: Codable, Sendable, Equatable {
        /// Network input side (HR images have it; LR views are up-sampled back to it).
        public var imageSize = 32
        public var embeddingSize = 128
        public var batchSize = 64
        public var teacherSteps = 500
        public var studentSteps = 250
        public var learningRate: Float = 2e-3
        /// The margin head: `arcface` or `cosface`, with its scale and margin.
        public var head = "cosface"
        public var headScale: Float = 30
        public var headMargin: Float = 0.35
        /// The LR view the students train on (random per sample); `nil`: the default fitted to
        /// ``imageSize`` (``trainingView``).
        public var trainingDegradation: String?
        /// Probe sizes of the evaluation (bicubic down, bicubic up to `imageSize`).
        public var probeSizes = [8, 12, 16, 20, 24]
        /// Feature map used by NST.
        public var featureMap = "stage2"
        public var families = Family.standard
        /// Student seeds; the spread over them is reported.
        public var seeds: [UInt64] = [1, 2, 3]
        public var teacherSeed: UInt64 = 100
        /// Verification folds (LFW: 10) and pairs per fold; a fold needs two test identities.
        public var verificationFolds = 10
        public var pairsPerFold = 100

        public init() {}

        /// Settings without a default value, which a config file may still set.
        public static let optionalKeys = ["trainingDegradation"]

        /// The spec of the students' LR view: ``trainingDegradation``, or the default fitted to
        /// ``imageSize`` and up-sampled back to it (``Degradation/defaultView(width:height:up:)``).
        public var trainingView: String {
            trainingDegradation ?? Degradation.defaultView(width: imageSize, height: imageSize, up: .size(imageSize)).description
        }

        /// A run of a minute or less, for smoke tests: one seed, few steps, same families.
        public static var quick: Configuration {
            var c = Configuration()
            c.teacherSteps = 40
            c.studentSteps = 15
            c.seeds = [1]
            c.probeSizes = [8, 16]
            c.pairsPerFold = 40
            return c
        }

        /// Checks values a user may set, naming the bad one.
        public func validate() throws {
            func require(_ condition: Bool, _ message: String) throws {
                if !condition { throw TrainingError.invalidConfiguration(message) }
            }
            try require(imageSize >= 8 && imageSize % 8 == 0 && imageSize <= ModelFactory.maximumInputSize,
                        "imageSize must be a positive multiple of 8 up to \(ModelFactory.maximumInputSize), got \(imageSize)")
            try require((1...ModelFactory.maximumEmbeddingSize).contains(embeddingSize),
                        "embeddingSize must be in 1...\(ModelFactory.maximumEmbeddingSize), got \(embeddingSize)")
            try require(headScale > 0 && headScale.isFinite, "headScale must be positive, got \(headScale)")
            try require(headMargin >= 0 && headMargin < 1.5, "headMargin must be in [0, 1.5), got \(headMargin)")
            try require(batchSize >= 2, "batchSize must be at least 2, got \(batchSize)")
            try SettingChecks.count(teacherSteps, "teacherSteps", minimum: 1)
            try SettingChecks.count(studentSteps, "studentSteps", minimum: 1)
            try require(learningRate > 0 && learningRate.isFinite, "learningRate must be positive, got \(learningRate)")
            try require(["arcface", "cosface"].contains(head), "head must be arcface or cosface, got '\(head)'")
            try SettingChecks.seeds(seeds, "seeds")
            try require(!families.isEmpty && !probeSizes.isEmpty, "families and probeSizes must not be empty")
            try require(probeSizes.allSatisfy { $0 >= 2 && $0 <= imageSize }, "probe sizes must be in 2...\(imageSize), got \(probeSizes)")
            try require(Set(families.map(\.name)).count == families.count, "family names must be unique")
            try require(verificationFolds >= 2 && pairsPerFold >= 2, "verificationFolds and pairsPerFold must be at least 2")
            let degradation: Degradation
            do {
                degradation = try Degradation(parsing: trainingView)
                _ = try degradation.checkDownsampling(width: imageSize, height: imageSize)  // (every draw above the faces' side)
            } catch { throw TrainingError.invalidConfiguration("trainingDegradation: \(error)") }
            let viewSize = degradation.outputSize(width: imageSize, height: imageSize)
            try require(viewSize?.width == imageSize && viewSize?.height == imageSize,
                        "trainingDegradation '\(trainingView)' must bring the \(imageSize)×\(imageSize) faces back to the students' \(imageSize)×\(imageSize) input: end it with up=\(imageSize)")
            try require(SmallFaceNet.mapNames.contains(featureMap),
                        "featureMap must be one of SmallFaceNet's maps (\(SmallFaceNet.mapNames.joined(separator: ", "))), got '\(featureMap)'")
            for family in families { try check(family) }
        }

        /// A family's transfer spec parses, with terms a study can feed: not `kd` (the networks
        /// give embeddings, no class logits), `nst` on the one teacher map the study caches
        /// (``featureMap``), DarkRank lists shorter than the batch.
        func check(_ family: Family) throws {
            guard !family.transfer.isEmpty else { return }
            func problem(_ text: String) -> TrainingError { .invalidConfiguration("family '\(family.name)': \(text)") }
            let transfer: WeightedTransferLoss
            do {
                var generator = RandomGenerator(seed: 0)
                transfer = try TransferSpec.parse(family.transfer, configuration: TransferLossConfiguration(
                    studentEmbeddingDimension: embeddingSize, classes: 2, featureMap: featureMap, generator: generator.split()))
                try DistillationTraining.checkTransferInputs(transfer, batch: batchSize)
            } catch TrainingError.invalidConfiguration(let message) {
                throw problem(message)
            } catch { throw problem("\(error)") }
            for term in transfer.terms {
                if let nst = term.loss as? NeuronSelectivityTransfer {
                    guard nst.teacherMap == featureMap else {
                        throw problem("nst reads the teacher's map '\(nst.teacherMap)', but the study caches only featureMap '\(featureMap)' (set featureMap, or drop :map=)")
                    }
                    guard SmallFaceNet.mapNames.contains(nst.studentMap) else {
                        throw problem("nst reads the student's map '\(nst.studentMap)', which SmallFaceNet does not have (\(SmallFaceNet.mapNames.joined(separator: ", ")))")
                    }
                }
            }
        }
    }

    /// One trained student and its evaluation.
    public struct StudentResult: Codable, Sendable {
        public var family: String
        public var seed: UInt64
        public var seconds: Double
        public var finalTerms: [String: Float]
        public var verification: SweepReport
        public var identification: SweepReport
    }

    /// Everything a study produced.
    public struct Result: Codable, Sendable {
        public var configuration: Configuration
        public var dataset: String
        public var teacherTerms: [String: Float]
        public var teacherSeconds: Double
        /// The teacher's own HR-vs-LR sweep (the upper bound students chase at native size).
        public var teacherVerification: SweepReport
        public var students: [StudentResult]
    }

    public let configuration: Configuration
    /// Prints progress lines (default: standard output).
    public var say: (String) -> Void = { print($0); fflush(nil) }

    public init(configuration: Configuration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Throws what ``run(train:test:datasetName:)`` would for these data sets before any
    /// training: a training set smaller than one batch, a test set that cannot fill the
    /// verification folds. Returns the verification pairs.
    @discardableResult
    public func check(train: any FaceDataset, test: any FaceDataset) throws -> PairList {
        let c = configuration
        guard train.count >= c.batchSize else {
            throw TrainingError.invalidConfiguration("batchSize \(c.batchSize) is larger than the \(train.count) training images")
        }
        do {
            return try PairList.lfwStyle(labels: test.labels, folds: c.verificationFolds, pairsPerFold: c.pairsPerFold, seed: 7)
        } catch {
            throw TrainingError.invalidConfiguration("the test set cannot give \(c.verificationFolds) folds of \(c.pairsPerFold) pairs: \(error)")
        }
    }

    /// Runs the whole study on `train` (teacher and students) and `test` (disjoint identities).
    public func run(train: any FaceDataset, test: any FaceDataset, datasetName: String) throws -> Result {
        let c = configuration
        let pairs = try check(train: train, test: test)
        let trainingDegradation = try Degradation(parsing: c.trainingView)
        let evaluation = try EvaluationSet(test: test, pairs: pairs, imageSize: c.imageSize)

        say("teacher: \(c.teacherSteps) steps on \(train.count) HR images of \(train.identityCount) identities")
        var teacherRNG = RandomGenerator(seed: c.teacherSeed)
        let teacher = SmallFaceNet(embeddingSize: c.embeddingSize, inputSize: c.imageSize, using: &teacherRNG)
        let teacherHead = makeHead(classes: train.identityCount, using: &teacherRNG)
        let teacherTask = ClassifierTask(backbone: teacher, head: teacherHead,
                                         optimizer: Adam(parameters: teacher.parameters() + teacherHead.parameters(), learningRate: c.learningRate,
                                                         schedule: CosineSchedule(totalSteps: c.teacherSteps, minimum: 0.05)))
        let teacherBatches = LoaderBatches(BatchLoader(dataset: train, options: LoaderOptions(batchSize: c.batchSize, flip: true),
                                                       seed: c.teacherSeed))
        let teacherSummary = try TrainingLoop(steps: c.teacherSteps, progress: ProgressReporter(label: "teacher", total: c.teacherSteps))
            .run(teacherTask, batches: teacherBatches)
        teacher.eval()
        let teacherVerification = try evaluation.verification(probe: teacher, gallery: nil, sizes: c.probeSizes)
        say("teacher HR-vs-LR accuracy: " + evaluation.summary(teacherVerification, mode: .hrVsLr))

        // The teacher's features of every training image, computed once and shared by all
        // students (the seed's "extra data input"): students see unflipped HR views, so the
        // cache is exact, and a student step costs no teacher forward pass.
        say("caching the teacher's embeddings and '\(c.featureMap)' maps of \(train.count) training images")
        let cache = try TeacherFeatureCache(teacher: teacher, count: train.count, batchSize: 128, keepingMaps: [c.featureMap]) { range in
            Image.batchTensor(try range.map { try train.sample(at: $0).image })
        }

        var students: [StudentResult] = []
        for family in c.families {
            for seed in c.seeds {
                let started = Date()
                let (task, student) = try makeStudent(family, seed: seed, teacher: teacher, cache: cache, classes: train.identityCount)
                let batches = LoaderBatches(BatchLoader(dataset: train, options: LoaderOptions(batchSize: c.batchSize,
                                                                                               degradation: trainingDegradation), seed: seed))
                let label = "\(family.name) seed \(seed)"
                let summary = try TrainingLoop(steps: c.studentSteps, progress: ProgressReporter(label: label, total: c.studentSteps))
                    .run(task, batches: batches)
                student.eval()
                let verification = try evaluation.verification(probe: student, gallery: teacher, sizes: c.probeSizes)
                let identification = try evaluation.identification(probe: student, gallery: teacher, sizes: c.probeSizes)
                say("\(label): cross-model accuracy " + evaluation.summary(verification, mode: .crossModel)
                    + " | LR-vs-LR " + evaluation.summary(verification, mode: .lrVsLr))
                students.append(StudentResult(family: family.name, seed: seed, seconds: Date().timeIntervalSince(started),
                                              finalTerms: Dictionary(summary.lastTerms.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
                                              verification: verification, identification: identification))
            }
        }
        var recorded = c
        recorded.trainingDegradation = c.trainingView  // (the result names the LR view its students had)
        return Result(configuration: recorded, dataset: datasetName,
                      teacherTerms: Dictionary(teacherSummary.lastTerms.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
                      teacherSeconds: teacherSummary.seconds, teacherVerification: teacherVerification, students: students)
    }

    private func makeHead(classes: Int, using rng: inout RandomGenerator) -> MarginHead {
        let c = configuration
        return c.head == "arcface"
            ? MarginHead.arcFace(classes: classes, embeddingDimension: c.embeddingSize, scale: c.headScale, margin: c.headMargin, using: &rng)
            : MarginHead.cosFace(classes: classes, embeddingDimension: c.embeddingSize, scale: c.headScale, margin: c.headMargin, using: &rng)
    }

    private func makeStudent(_ family: Family, seed: UInt64, teacher: SmallFaceNet, cache: TeacherFeatureCache,
                             classes: Int) throws -> (DistillationTask, SmallFaceNet) {
        let c = configuration
        var rng = RandomGenerator(seed: seed, stream: 0x5354_5544)
        let student = SmallFaceNet(embeddingSize: c.embeddingSize, inputSize: c.imageSize, using: &rng)
        if family.initialisation == .teacher { try student.load(stateDict: teacher.stateDict(), source: "teacher") }
        let head = makeHead(classes: classes, using: &rng)
        let transfer = family.transfer.isEmpty ? nil : try TransferSpec.parse(
            family.transfer, configuration: TransferLossConfiguration(studentEmbeddingDimension: c.embeddingSize, classes: classes,
                                                                      featureMap: c.featureMap, generator: rng.split()))
        let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer),
                             learningRate: c.learningRate, schedule: CosineSchedule(totalSteps: c.studentSteps, minimum: 0.05))
        let critic = transfer.flatMap { $0.criticParameters.isEmpty ? nil : $0 }.map {
            Adam(parameters: $0.criticParameters, learningRate: 1e-4, beta1: 0.5, beta2: 0.9, epsilon: 1e-8) as any Optimizer
        }
        let task = DistillationTask(teacher: teacher, student: student, head: head, transfer: transfer,
                                    optimizer: optimizer, criticOptimizer: critic, teacherCache: cache)
        return (task, student)
    }
}

/// The held-out identities as verification pairs and an identification gallery/probe split,
/// degraded on demand to each probe size (bicubic down with antialias, bicubic back up).
struct EvaluationSet {
    let first: [Image], second: [Image], issame: [Bool]
    let gallery: [Image], galleryLabels: [Int], probes: [Image], probeLabels: [Int]
    let imageSize: Int
    let sweepSettings: CrossResolutionSweep

    init(test: any FaceDataset, pairs: PairList, imageSize: Int) throws {
        sweepSettings = CrossResolutionSweep(extractor: EmbeddingExtractor(batchSize: 128, flipTestTimeAugmentation: false),
                                             verification: VerificationSettings(kFold: KFoldVerification(folds: pairs.foldCount)))
        let images = try (0..<test.count).map { try test.sample(at: $0).image }
        first = pairs.pairs.map { images[$0.first] }
        second = pairs.pairs.map { images[$0.second] }
        issame = pairs.pairs.map(\.isSame)
        // Gallery: the first image of every identity; probes: all the others.
        var seen = Set<Int>()
        var g: [Int] = [], p: [Int] = []
        for i in 0..<test.count { if seen.insert(test.label(at: i)).inserted { g.append(i) } else { p.append(i) } }
        gallery = g.map { images[$0] }
        galleryLabels = g.map(test.label(at:))
        probes = p.map { images[$0] }
        probeLabels = p.map(test.label(at:))
        self.imageSize = imageSize
    }

    func source(_ images: [Image], _ resolution: ProbeResolution) throws -> ImageSource {
        let degraded: [Image]
        switch resolution {
        case .native: degraded = images
        case .pixels(let s):
            let degradation = try Degradation(parsing: "size=\(s),interp=bicubic,up=\(imageSize)")
            var rng = RandomGenerator(seed: 0)
            degraded = images.map { degradation.apply(to: $0, using: &rng) }
        }
        return ImageSource(Image.batchTensor(degraded))
    }

    private func sweep(sizes: [Int]) -> CrossResolutionSweep {
        var settings = sweepSettings
        settings.resolutions = sizes.map { .pixels($0) } + [.native]
        return settings
    }

    func verification(probe: any FeatureExtractor, gallery teacher: (any FeatureExtractor)?, sizes: [Int]) throws -> SweepReport {
        guard !issame.isEmpty else { throw TrainingError.invalidConfiguration("no verification pairs to evaluate") }
        return try sweep(sizes: sizes).run(.verification(issame: issame), probeModel: embed(probe), galleryModel: teacher.map(embed)) { side, resolution in
            try source(side == .gallery ? first : second, resolution)
        }
    }

    func identification(probe: any FeatureExtractor, gallery teacher: (any FeatureExtractor)?, sizes: [Int]) throws -> SweepReport {
        guard !probes.isEmpty else {
            throw TrainingError.invalidConfiguration("identification needs identities with two or more images (the first in the gallery, the others as probes); each of the \(galleryLabels.count) test identities has one")
        }
        return try sweep(sizes: sizes).run(.identification(galleryLabels: galleryLabels, probeLabels: probeLabels),
                                    probeModel: embed(probe), galleryModel: teacher.map(embed)) { side, resolution in
            try source(side == .gallery ? gallery : probes, resolution)
        }
    }

    /// `size: accuracy` for each probe size of one mode.
    func summary(_ report: SweepReport, mode: SweepMode) -> String {
        report.entries.filter { $0.mode == mode }.map { "\($0.resolution): \(String(format: "%.3f", $0.headline))" }.joined(separator: ", ")
    }
}

/// A feature extractor as an evaluation model (callers put it in eval mode first).
func embed(_ model: any FeatureExtractor) -> EmbeddingModel {
    { model.features($0).embedding }
}
