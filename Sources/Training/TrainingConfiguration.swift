import Foundation
import Tensor
import Layers
import Optim
import Losses
import Datasets

/// The settings of a training run that teacher and student share: data, backbone, steps,
/// batch, optimiser, margin head, seed, checkpoints. On its own it configures
/// ``TeacherTraining`` (`crossres train-teacher`); ``DistillationConfiguration`` adds the
/// teacher, the transfer and the degradation.
public struct TrainingConfiguration: RunConfiguration, Sendable {
    /// A ``DataSource`` argument (required).
    public var data: String?
    /// A ``ModelFactory`` name.
    public var model = "smallfacenet"
    /// `nil`: the model's default.
    public var embeddingSize: Int?
    public var inputSize: Int?
    public var steps = 1000
    public var batch = 64
    public var lr: Float = 2e-3
    /// `adam` or `sgd` (with ``momentum``).
    public var optimizer = "adam"
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    /// `cosine` (falling to 5 % of ``lr`` just after the last step) or `constant`.
    public var schedule = "cosine"
    /// The margin head: `arcface` or `cosface`.
    public var head = "cosface"
    public var headScale: Float = 30
    /// `nil`: the head's default (ArcFace 0.5, CosFace 0.35).
    public var headMargin: Float?
    /// Seeds initialisation and the loader (order, flips, degradation).
    public var seed: UInt64 = 0
    /// Random horizontal flips of the HR image.
    public var flip = true
    /// Steps between checkpoints (one is also written at the end).
    public var checkpointEvery = 200
    /// Threads preparing batches (does not change the numbers).
    public var workers = 2
    /// In a data-parallel run, BatchNorm normalises with the global batch's statistics
    /// (synchronised over the processes) instead of each process's shard's; no effect in one
    /// process.
    public var syncBatchnorm = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case data, model, embeddingSize = "embedding-size", inputSize = "input-size", steps, batch, lr, optimizer, momentum
        case weightDecay = "weight-decay", schedule, head, headScale = "head-scale", headMargin = "head-margin", seed, flip
        case checkpointEvery = "checkpoint-every", workers, syncBatchnorm = "sync-batchnorm"
    }

    public static let pathKeys = ["data"]

    public static let options: [ConfigurationOption] = [
        ConfigurationOption("data", .text, "DATA", "training faces: a folder of identity sub-folders, a .rec file, or synthetic[:identities=N,images=M,size=S,seed=K]"),
        ConfigurationOption("model", .text, "NAME", "backbone: \(ModelFactory.names)"),
        ConfigurationOption("embedding-size", .integer, "N", "embedding dimension (default: the model's)"),
        ConfigurationOption("input-size", .integer, "N", "network input side in pixels (default: the model's; images are resized to it)"),
        ConfigurationOption("steps", .integer, "N", "optimisation steps"),
        ConfigurationOption("batch", .integer, "N", "images per batch"),
        ConfigurationOption("lr", .number, "X", "learning rate"),
        ConfigurationOption("optimizer", .text, "NAME", "adam or sgd"),
        ConfigurationOption("momentum", .number, "X", "SGD momentum"),
        ConfigurationOption("weight-decay", .number, "X", "L2 weight decay"),
        ConfigurationOption("schedule", .text, "NAME", "learning-rate schedule: cosine (to 5% at the end) or constant"),
        ConfigurationOption("head", .text, "NAME", "margin head: arcface or cosface"),
        ConfigurationOption("head-scale", .number, "X", "margin head scale s"),
        ConfigurationOption("head-margin", .number, "X", "margin m (default: ArcFace 0.5, CosFace 0.35)"),
        ConfigurationOption("seed", .unsignedInteger, "N", "seed of initialisation, batch order, flips and degradation"),
        ConfigurationOption("flip", .boolean, "BOOL", "random horizontal flips"),
        ConfigurationOption("checkpoint-every", .integer, "N", "steps between checkpoints; one is also written at the end"),
        ConfigurationOption("workers", .integer, "N", "threads preparing batches"),
        ConfigurationOption("sync-batchnorm", .boolean, "BOOL", "with --distributed: BatchNorm with the global batch's statistics, synchronised over the processes"),
    ]

    /// Throws unless the batch splits evenly over `processes` data-parallel processes, giving
    /// each at least two rows: each normalises its own rows (BatchNorm needs two values per
    /// channel) unless ``syncBatchnorm`` makes the statistics the global batch's. Run before
    /// anything is loaded or written (the teacher, its feature cache, the run folder).
    public func checkBatchSplits(over processes: Int) throws {
        guard processes <= 1 || batch % processes == 0 else {
            let below = batch / processes * processes, above = below + processes
            throw TrainingError.invalidConfiguration(
                "the global batch \(batch) does not split evenly over \(processes) processes; choose a 'batch' that is a multiple of \(processes)"
                + (below > 0 ? " (\(below) or \(above))" : " (\(above))"))
        }
        guard processes <= 1 || syncBatchnorm || batch / processes >= 2 else {
            throw TrainingError.invalidConfiguration(
                "'batch' \(batch) over \(processes) processes gives \(batch / processes) per process, and each normalises its own rows, which needs at least 2 (BatchNorm): use a batch of \(2 * processes) or more, or sync-batchnorm")
        }
    }

    /// The checks a run makes before its set-up: the batch's split over `processes` always, the
    /// settings' effect only when it starts (a resume keeps what its folder stored).
    public func checkBeforeRunning(processes: Int, resume: Bool) throws {
        try checkBatchSplits(over: processes)
        if !resume { try checkSettingsHaveEffect() }
    }

    /// Throws for a setting changed from its default that would have no effect (a momentum
    /// without SGD). Checked when a run starts, not when one resumes: folders written before
    /// this check may hold such settings, and a resume cannot change them.
    public func checkSettingsHaveEffect() throws {
        guard optimizer == "sgd" || momentum == Self().momentum else {
            throw TrainingError.invalidConfiguration("'momentum' is SGD's, and the optimizer is \(optimizer) (set 'optimizer' to sgd, or drop it)")
        }
    }

    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw TrainingError.invalidConfiguration(message()) }
        }
        guard let data else { throw TrainingError.invalidConfiguration("'data' is required (a folder, a .rec file, or synthetic)") }
        _ = try DataSource(parsing: data)
        _ = try backbone()
        try SettingChecks.count(steps, "'steps'", minimum: 1)
        try require(batch >= 2, "'batch' must be at least 2, got \(batch)")
        try require(lr > 0 && lr.isFinite, "'lr' must be a positive number, got \(lr)")
        try require(["adam", "sgd"].contains(optimizer), "'optimizer' must be adam or sgd, got '\(optimizer)'")
        try require(momentum >= 0 && momentum < 1, "'momentum' must be in [0, 1), got \(momentum)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "'weight-decay' must be non-negative, got \(weightDecay)")
        try require(["cosine", "constant"].contains(schedule), "'schedule' must be cosine or constant, got '\(schedule)'")
        try require(["arcface", "cosface"].contains(head), "'head' must be arcface or cosface, got '\(head)'")
        try require(headScale > 0 && headScale.isFinite, "'head-scale' must be positive, got \(headScale)")
        try require(headMargin.map { $0 >= 0 && $0 < 1.5 } ?? true, "'head-margin' must be in [0, 1.5), got \(headMargin ?? 0)")
        try require(checkpointEvery >= 1, "'checkpoint-every' must be at least 1, got \(checkpointEvery)")
        try require(workers >= 1 && workers <= 64, "'workers' must be in 1...64, got \(workers)")
    }

    /// The backbone these settings describe.
    public func backbone() throws -> BackboneConfiguration {
        try ModelFactory.configuration(name: model, embeddingSize: embeddingSize, inputSize: inputSize)
    }

    /// The data source (after ``validate()``).
    public func dataSource() throws -> DataSource {
        guard let data else { throw TrainingError.invalidConfiguration("'data' is required") }
        return try DataSource(parsing: data)
    }

    /// The training data, opened: a data set of at least two identities (a classifier over one
    /// learns nothing), or an error naming it.
    public func openTrainingData() throws -> (source: DataSource, dataset: any FaceDataset) {
        let source = try dataSource(), dataset = try source.open()
        guard dataset.identityCount >= 2 else {
            throw TrainingError.invalidConfiguration("data \(source): \(dataset.identityCount) identit\(dataset.identityCount == 1 ? "y" : "ies"); training a margin head needs at least 2")
        }
        return (source, dataset)
    }

    /// The margin head over `classes` identities.
    public func makeHead(classes: Int, embeddingDimension: Int, using generator: inout RandomGenerator) -> MarginHead {
        head == "arcface"
            ? MarginHead.arcFace(classes: classes, embeddingDimension: embeddingDimension, scale: headScale, margin: headMargin ?? 0.5, using: &generator)
            : MarginHead.cosFace(classes: classes, embeddingDimension: embeddingDimension, scale: headScale, margin: headMargin ?? 0.35, using: &generator)
    }

    /// The optimiser of `parameters` with the learning-rate schedule over ``steps``.
    public func makeOptimizer(_ parameters: [Parameter]) -> any Optimizer {
        let schedule: any LearningRateSchedule = self.schedule == "cosine" ? CosineSchedule(totalSteps: steps, minimum: 0.05) : ConstantSchedule()
        return optimizer == "sgd"
            ? SGD(parameters: parameters, learningRate: lr, momentum: momentum, weightDecay: weightDecay, schedule: schedule)
            : Adam(parameters: parameters, learningRate: lr, weightDecay: weightDecay, schedule: schedule)
    }

    /// Batches of `dataset`: HR images at `hrSize` in 3 channels, LR views by `degradation`,
    /// everything random seeded by ``seed``. Throws when the set makes no full batch, and when
    /// `degradation` would up-sample every view (``Degradation/checkDownsampling(width:height:)``);
    /// when it would up-sample only some (a size range reaching above `hrSize`), says so to `warn`.
    public func makeBatches(_ dataset: any FaceDataset, hrSize: Int, degradation: Degradation = .identity,
                            warn: (String) -> Void = TrainingLoop.standardErrorWarning) throws -> LoaderBatches {
        guard dataset.count >= batch else {
            throw TrainingError.invalidConfiguration("the data has \(dataset.count) images, fewer than one batch of \(batch); lower 'batch'")
        }
        do {
            if let warning = try degradation.checkDownsampling(width: hrSize, height: hrSize) { warn(warning) }
        } catch let error as DatasetError {
            throw TrainingError.invalidConfiguration("\(error)")
        }
        let options = LoaderOptions(batchSize: batch, flip: flip, workers: workers, degradation: degradation,
                                    hrSize: ImageSize(hrSize), channels: 3)
        return LoaderBatches(BatchLoader(dataset: dataset, options: options, seed: seed))
    }
}
