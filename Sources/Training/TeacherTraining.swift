import Foundation
import Tensor
import Layers
import Datasets

/// Trains an HR teacher — a zoo backbone with a margin head on the HR images — in a run
/// folder (``TrainingRunFolder``): `crossres train-teacher`.
///
/// ```swift
/// var settings = TrainingConfiguration()
/// settings.data = "synthetic:identities=20,images=8,size=32"
/// settings.steps = 100
/// try TeacherTraining(configuration: settings).run(output: "runs/teacher")
/// ```
public struct TeacherTraining {
    public let configuration: TrainingConfiguration
    /// Prints progress lines (default: standard output).
    public var say: (String) -> Void = { print($0) }
    /// Where warnings about the run folder go (an earlier output it could not remove; default: standard error).
    public var warn: (String) -> Void = TrainingLoop.standardErrorWarning
    /// Data parallelism over several processes (the `Distributed` module's `ProcessGroup`);
    /// `nil`: one process. Only rank 0 touches the run folder.
    public var parallelism: (any DataParallelism)?

    public init(configuration: TrainingConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// What a finished run reports (its `result.json`).
    public struct Result: Codable, Sendable {
        public var backbone: BackboneConfiguration
        public var data: String
        public var images: Int
        public var identities: Int
        public var parameters: Int
        public var steps: Int
        /// The checkpoint step a resumed run continued from (`nil`: not resumed).
        public var resumedFrom: Int?
        public var seconds: Double
        /// Loss terms of the last step run.
        public var finalTerms: [String: Float]
        /// The backbone weights written.
        public var weights: String
    }

    /// Trains into `output`: a new folder, created once the data and models are ready (an existing
    /// one replaced only with `overwrite`, left in place by a set-up that fails and kept until the
    /// run has succeeded: ``TrainingRunFolder/run(into:overwrite:resume:keeping:parallelism:warn:_:)``),
    /// or, with `resume`, the existing run, locked from the start, continued from its checkpoint.
    @discardableResult
    public func run(output: String, overwrite: Bool = false, resume: Bool = false) throws -> Result {
        try configuration.checkBeforeRunning(processes: parallelism?.processCount ?? 1, resume: resume)
        return try TrainingRunFolder.run(into: output, overwrite: overwrite, resume: resume, keeping: configuration.inputs,
                                         parallelism: parallelism, warn: warn) { claim in
            try train(output: output, resume: resume, claim: claim)
        }
    }

    private func train(output: String, resume: Bool, claim: TrainingRunFolder.Claim?) throws -> Result {
        let c = configuration
        let isRoot = parallelism?.isRoot ?? true
        let (source, dataset) = try c.openTrainingData()
        let data = RankInvariant.data(dataset)
        try ProcessAgreement.together(parallelism?.processAgreement) {  // (rank 0's check: every rank stops on it)
            guard resume && isRoot else { return }
            try TrainingRunFolder.checkUnchanged(data, key: TrainingRunFolder.dataKey, subject: "the training data \(source)",
                                                 in: output, fix: TrainingRunFolder.dataChangedFix)
        }
        let architecture = try c.backbone()
        var generator = RandomGenerator(seed: c.seed)
        let backbone = try ModelFactory.make(architecture, using: &generator)
        if c.syncBatchnorm { parallelism?.synchroniseBatchNorm(in: backbone) }
        let head = c.makeHead(classes: dataset.identityCount, embeddingDimension: architecture.embeddingSize, using: &generator)
        let optimizer = c.makeOptimizer(backbone.parameters() + head.parameters())
        let classifier = ClassifierTask(backbone: backbone, head: head, optimizer: try parallelism?.distribute(optimizer) ?? optimizer)
        let task = parallelism?.distribute(classifier) ?? classifier
        let globalBatches = try c.makeBatches(dataset, hrSize: architecture.inputSize)
        let batches = try parallelism?.shard(globalBatches) ?? globalBatches

        let (run, start) = try TrainingRunFolder.open(output, configuration: c, claim: claim, task: task, parallelism: parallelism)
        if start == c.steps, let finished = run?.result(Result.self) {
            say("\(output) is complete (step \(start) of \(c.steps)); nothing to resume")
            return finished
        }
        let parameters = backbone.parameters().reduce(0) { $0 + $1.value.count }
        say("teacher \(architecture), \(parameters) parameters; \(dataset.count) images of \(dataset.identityCount) identities from \(source)"
            + (resume ? "; resuming at step \(start) of \(c.steps)" : "") + "; run folder \(output)")
        let summary = try run?.train(task, batches: batches, steps: c.steps, startStep: start, checkpointEvery: c.checkpointEvery,
                                     label: "teacher", metadata: ["crossres.command": "train-teacher",
                                                                  "crossres.settings": String(decoding: try c.withAbsolutePaths().jsonData(), as: UTF8.self),
                                                                  TrainingRunFolder.dataKey: TrainingRunFolder.record(data)])
            ?? TrainingLoop(steps: c.steps, criticCollapse: nil).run(task, batches: batches, startStep: start)  // the other ranks: no log, no checkpoints
        let weights = (output as NSString).appendingPathComponent(ModelFactory.backboneFileName)
        if isRoot { try ModelFactory.save(backbone, configuration: architecture, to: weights) }
        let result = Result(backbone: architecture, data: source.description, images: dataset.count, identities: dataset.identityCount,
                            parameters: parameters, steps: c.steps, resumedFrom: resume ? start : nil, seconds: summary.seconds,
                            finalTerms: Dictionary(summary.lastTerms.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }), weights: weights)
        try run?.writeResult(result)
        say(String(format: "teacher trained in %.1f s; weights %@", summary.seconds, weights))
        return result
    }
}
