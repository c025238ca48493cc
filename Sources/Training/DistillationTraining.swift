import Foundation
import Tensor
import Layers
import Optim
import Losses
import Datasets

/// The settings of a student run: every ``TrainingConfiguration`` setting (the student's data,
/// model, steps, optimiser, head, seed, checkpoints) plus the teacher, the transfer terms and
/// the LR degradation. One flat JSON object, keys as the flags of `crossres distill`.
public struct DistillationConfiguration: RunConfiguration, Sendable {
    public var training = TrainingConfiguration()
    /// The teacher's weights: a `.safetensors` file or a teacher run folder (required).
    public var teacher: String?
    /// The teacher's model and sizes, for weights without CrossRes metadata.
    public var teacherModel: String?
    public var teacherEmbeddingSize: Int?
    public var teacherInputSize: Int?
    /// A ``TransferSpec`` (`l2=5,nst=50,adda`); empty or `none`: the no-transfer baseline.
    public var transfer = ""
    /// A ``Degradation`` spec for the student's LR view; `nil`: the default,
    /// ``degradationSpec(hrSize:inputSize:)``, which a run stores here.
    public var degrade: String?
    /// How the student starts: `scratch` (its own initialisation) or `teacher` (a copy of the
    /// teacher's weights; same architecture).
    public var initialisation = "scratch"
    /// Minimum critic accuracy for adversarial terms to train the encoder (`nil`: never gated).
    public var gate: Float?
    /// The critic's learning rate (Adam, β = (0.5, 0.9): the seed's converged ADDA recipe).
    public var criticLr: Float = 1e-4
    /// Feature map for `nst` terms that name none (`nil`: the student model's default).
    public var featureMap: String?
    /// Precompute the teacher's features once (``TeacherFeatureCache``) instead of running it
    /// every step; needs a deterministic HR view (`flip` off).
    public var cacheTeacher = false
    /// The most memory, in bytes, the `cacheTeacher` caches of one machine may take together:
    /// every process of a data-parallel run holds a whole cache, so each of the run's processes
    /// on a machine gets an equal share (``DistillationTraining/localProcesses``). `nil`:
    /// ``TeacherFeatureCache/defaultMemoryLimit``, half of the memory a process may use.
    public var teacherCacheLimit: Int?
    /// Consecutive steps with the critic's accuracy pinned at ≤ 0.02 or ≥ 0.98 that count as
    /// an ADDA critic collapse (``CriticCollapseDetector``), and whether one stops the run
    /// (otherwise a warning in the log and on standard error).
    public var criticCollapseWindow = 200
    public var stopOnCriticCollapse = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case teacher, teacherModel = "teacher-model", teacherEmbeddingSize = "teacher-embedding-size", teacherInputSize = "teacher-input-size"
        case transfer, degrade, initialisation = "init", gate, criticLr = "critic-lr", featureMap = "feature-map"
        case cacheTeacher = "cache-teacher", teacherCacheLimit = "teacher-cache-limit"
        case criticCollapseWindow = "critic-collapse-window", stopOnCriticCollapse = "stop-on-critic-collapse"
    }

    /// The spec of the student's LR view of `hrSize`-pixel HR images (the teacher's input) for a
    /// student of `inputSize`: ``degrade``, or when none is given the default fitted to the HR
    /// side (``Degradation/defaultView(width:height:up:)``: a 16-px teacher gets `size=8..16`)
    /// and up-sampled to `inputSize`. (A run of an earlier version stored no spec and ran with
    /// the default unfitted, `size=8..20`: ``TrainingRunFolder/resumedConfiguration(_:as:layers:)``
    /// gives it that one back, ``completingEarlierVersion(_:)``.)
    public func degradationSpec(hrSize: Int, inputSize: Int) -> String {
        degrade ?? Degradation.defaultView(width: hrSize, height: hrSize, up: .size(inputSize)).description
    }

    /// Settings of an earlier version's run: without `degrade`, which it did not store, it ran
    /// with the default not yet fitted to the teacher (`size=8..20`, up to the student's input).
    public static func completingEarlierVersion(_ stored: ConfigurationLayer) throws -> ConfigurationLayer {
        guard stored.values["degrade"] == nil || stored.values["degrade"] is NSNull else { return stored }
        var completed = stored
        completed.values["degrade"] = "\(Degradation.defaultSpec),up=\(try layered([stored]).training.backbone().inputSize)"
        return completed
    }

    public static let pathKeys = ["teacher"] + TrainingConfiguration.pathKeys
    public static let modelPathKeys = ["teacher"]

    public static let options: [ConfigurationOption] = [
        ConfigurationOption("teacher", .text, "PATH", "teacher weights: a train-teacher run folder or a .safetensors file (required)"),
        ConfigurationOption("teacher-model", .text, "NAME", "teacher model, for weights without CrossRes metadata"),
        ConfigurationOption("teacher-embedding-size", .integer, "N", "teacher embedding dimension, for weights without metadata"),
        ConfigurationOption("teacher-input-size", .integer, "N", "teacher input side, for weights without metadata"),
        ConfigurationOption("transfer", .text, "SPEC", "transfer terms, e.g. l2=5,nst=50,adda (none: the baseline); losses: \(TransferSpec.methods.map(\.name).filter { $0 != "kd" }.joined(separator: ", ")) (kd needs class logits: library only)"),
        ConfigurationOption("degrade", .text, "SPEC", "the student's LR view (default \(Degradation.defaultSpec),up=<input size>, sizes at most the teacher's input side)"),
        ConfigurationOption("init", .text, "FROM", "student initialisation: scratch or teacher (same architecture)"),
        ConfigurationOption("gate", .number, "X", "train the encoder adversarially only while the critic's accuracy is at least X (adda)"),
        ConfigurationOption("critic-lr", .number, "X", "critic learning rate (Adam, betas 0.5, 0.9)"),
        ConfigurationOption("feature-map", .text, "NAME", "feature map for nst terms without :map= (default: the student model's middle stage)"),
        ConfigurationOption("cache-teacher", .boolean, "BOOL", "compute the teacher's features once, not every step (needs --flip false)"),
        ConfigurationOption("teacher-cache-limit", .byteSize, "SIZE", "most memory the --cache-teacher caches take on one machine, e.g. 6GiB or 512MiB (default: half of its memory or cgroup limit); its ranks share it"),
        ConfigurationOption("critic-collapse-window", .integer, "N", "steps with the critic's accuracy pinned at <= 0.02 or >= 0.98 reported as a collapse (adda)"),
        ConfigurationOption("stop-on-critic-collapse", .boolean, "BOOL", "stop the run at a critic collapse instead of warning"),
    ] + TrainingConfiguration.options

    public init(from decoder: any Decoder) throws {
        training = try TrainingConfiguration(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        teacher = try container.decodeIfPresent(String.self, forKey: .teacher)
        teacherModel = try container.decodeIfPresent(String.self, forKey: .teacherModel)
        teacherEmbeddingSize = try container.decodeIfPresent(Int.self, forKey: .teacherEmbeddingSize)
        teacherInputSize = try container.decodeIfPresent(Int.self, forKey: .teacherInputSize)
        transfer = try container.decode(String.self, forKey: .transfer)
        degrade = try container.decodeIfPresent(String.self, forKey: .degrade)
        initialisation = try container.decode(String.self, forKey: .initialisation)
        gate = try container.decodeIfPresent(Float.self, forKey: .gate)
        criticLr = try container.decode(Float.self, forKey: .criticLr)
        featureMap = try container.decodeIfPresent(String.self, forKey: .featureMap)
        cacheTeacher = try container.decode(Bool.self, forKey: .cacheTeacher)
        teacherCacheLimit = try container.decodeIfPresent(Int.self, forKey: .teacherCacheLimit)
        criticCollapseWindow = try container.decode(Int.self, forKey: .criticCollapseWindow)
        stopOnCriticCollapse = try container.decode(Bool.self, forKey: .stopOnCriticCollapse)
    }

    public func encode(to encoder: any Encoder) throws {
        try training.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(teacher, forKey: .teacher)
        try container.encodeIfPresent(teacherModel, forKey: .teacherModel)
        try container.encodeIfPresent(teacherEmbeddingSize, forKey: .teacherEmbeddingSize)
        try container.encodeIfPresent(teacherInputSize, forKey: .teacherInputSize)
        try container.encode(transfer, forKey: .transfer)
        try container.encodeIfPresent(degrade, forKey: .degrade)
        try container.encode(initialisation, forKey: .initialisation)
        try container.encodeIfPresent(gate, forKey: .gate)
        try container.encode(criticLr, forKey: .criticLr)
        try container.encodeIfPresent(featureMap, forKey: .featureMap)
        try container.encode(cacheTeacher, forKey: .cacheTeacher)
        try container.encodeIfPresent(teacherCacheLimit, forKey: .teacherCacheLimit)
        try container.encode(criticCollapseWindow, forKey: .criticCollapseWindow)
        try container.encode(stopOnCriticCollapse, forKey: .stopOnCriticCollapse)
    }

    /// Whether the spec asks for no transfer (the baseline).
    public var isBaseline: Bool {
        let spec = transfer.trimmingCharacters(in: .whitespaces)
        return spec.isEmpty || spec == "none"
    }

    /// Checks what can be checked without reading files: the transfer spec's form here, what it
    /// needs of the networks (dimensions, feature maps), the teacher's weights and the data when
    /// the run builds them, naming the problem.
    public func validate() throws {
        try training.validate()
        guard let teacher, !teacher.isEmpty else {
            throw TrainingError.invalidConfiguration("'teacher' is required (a train-teacher run folder or a .safetensors file)")
        }
        guard ["scratch", "teacher"].contains(initialisation) else {
            throw TrainingError.invalidConfiguration("'init' must be scratch or teacher, got '\(initialisation)'")
        }
        // The spec's form here; what depends on the networks (dimensions, maps) when the run builds it.
        let readsFeatureMap: Bool
        do { readsFeatureMap = try !isBaseline && TransferSpec.readsConfiguredFeatureMap(transfer) } catch { throw TrainingError.invalidConfiguration("\(error)") }
        if featureMap != nil && !readsFeatureMap {
            throw TrainingError.invalidConfiguration("'feature-map' chooses the map of the nst terms without :map=, but \(isBaseline ? "there is no transfer term" : "the transfer '\(transfer)' has none")")
        }
        if let gate, !(gate >= 0 && gate <= 1) {
            throw TrainingError.invalidConfiguration("'gate' is a critic accuracy in [0, 1], got \(gate)")
        }
        guard criticCollapseWindow >= 1 else {
            throw TrainingError.invalidConfiguration("'critic-collapse-window' must be at least 1 step, got \(criticCollapseWindow)")
        }
        guard criticLr > 0 && criticLr.isFinite else { throw TrainingError.invalidConfiguration("'critic-lr' must be positive, got \(criticLr)") }
        if cacheTeacher && training.flip {
            throw TrainingError.invalidConfiguration("'cache-teacher' needs the same HR view every epoch: add --flip false")
        }
        if let teacherCacheLimit {
            guard teacherCacheLimit >= 1 else { throw TrainingError.invalidConfiguration("'teacher-cache-limit' must be a positive size in bytes, got \(teacherCacheLimit)") }
            guard cacheTeacher else { throw TrainingError.invalidConfiguration("'teacher-cache-limit' limits the memory of cache-teacher, which is off (add --cache-teacher true, or drop it)") }
        }
        if let teacherModel { _ = try ModelFactory.model(named: teacherModel) }
        if let degrade { _ = try Degradation(parsing: degrade) }
    }
}

extension DistillationConfiguration {
    /// For a transfer without a critic: the critic's settings, which would have no effect, are
    /// an error naming them — `gate` when set, the others when changed from their defaults
    /// (a stored or repeated default is no request). Checked when a run starts, not on resume.
    func checkCriticSettingsUnused() throws {
        let defaults = DistillationConfiguration()
        let set = [("gate", gate != nil), ("critic-lr", criticLr != defaults.criticLr),
                   ("critic-collapse-window", criticCollapseWindow != defaults.criticCollapseWindow),
                   ("stop-on-critic-collapse", stopOnCriticCollapse != defaults.stopOnCriticCollapse)].filter(\.1).map { "'\($0.0)'" }
        guard set.isEmpty else {
            throw TrainingError.invalidConfiguration(
                "\(set.joined(separator: ", ")) \(set.count == 1 ? "sets" : "set") how the ADDA critic trains, but the transfer '\(transfer)' has no critic (add adda, or drop \(set.count == 1 ? "it" : "them"))")
        }
    }
}

/// Trains an LR student from a frozen HR teacher (``DistillationTask``) in a run folder:
/// `crossres distill`. The teacher sees the HR image at its input size, the student the
/// degraded view at its own; a spec with a critic (`adda`) gets its own Adam optimiser.
public struct DistillationTraining {
    public let configuration: DistillationConfiguration
    public var say: (String) -> Void = { print($0) }
    /// Where warnings go (an earlier output it could not remove, a `degrade` spec whose sizes
    /// partly reach above the teacher's input side; rank 0's only; default: standard error).
    public var warn: (String) -> Void = TrainingLoop.standardErrorWarning
    /// Data parallelism over several processes (the `Distributed` module's `ProcessGroup`);
    /// `nil`: one process. Only rank 0 touches the run folder; every process's teacher weights
    /// and training data are checked to be rank 0's before the run starts.
    public var parallelism: (any DataParallelism)?
    /// The most memory `cache-teacher`'s feature cache may take in this process, in bytes (`nil`:
    /// the configuration's `teacher-cache-limit`, or ``TeacherFeatureCache/defaultMemoryLimit``,
    /// shared by ``localProcesses``); a larger cache stops the run after the first batch of the
    /// teacher's pass, naming both.
    public var teacherCacheMemoryLimit: Int?
    /// The processes of this run on this machine (`nil`: this one alone), which share its
    /// teacher-cache budget; `crossres distill --distributed` reads them from the launcher
    /// (``MachineResources/localProcesses(_:)``).
    public var localProcesses: MachineResources.LocalProcesses?

    /// The limit this process's teacher cache is held to (see ``teacherCacheMemoryLimit``).
    public var teacherCacheLimit: TeacherFeatureCache.MemoryLimit {
        teacherCacheMemoryLimit.map { TeacherFeatureCache.MemoryLimit(bytes: $0, origin: "DistillationTraining.teacherCacheMemoryLimit") }
            ?? .shared(machine: configuration.teacherCacheLimit, by: localProcesses)
    }

    /// The checkpoint metadata key of the teacher's weights' checksum (``RankInvariant/weights(_:name:)``):
    /// a resume with other teacher weights is refused (checkpoints written before it was stored
    /// are resumed unchecked).
    public static let teacherChecksumKey = "crossres.teacher-checksum"

    public init(configuration: DistillationConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// What a finished run reports (its `result.json`).
    public struct Result: Codable, Sendable {
        public var student: BackboneConfiguration
        public var teacher: BackboneConfiguration
        public var teacherWeights: String
        public var transfer: String
        public var degradation: String
        public var initialisation: String
        public var data: String
        public var images: Int
        public var identities: Int
        public var steps: Int
        public var resumedFrom: Int?
        public var seconds: Double
        public var finalTerms: [String: Float]
        public var weights: String
    }

    /// Checks that the feature maps the `nst` terms read exist in both networks (running each
    /// once on a blank pair of images) and returns the teacher's map names.
    static func checkFeatureMaps(_ transfer: WeightedTransferLoss?, teacher: any FeatureExtractor, student: any FeatureExtractor,
                                 teacherInput: Int, studentInput: Int) throws -> [String] {
        let terms = (transfer?.terms ?? []).compactMap { $0.loss as? NeuronSelectivityTransfer }
        guard !terms.isEmpty else { return [] }
        let (teacherMaps, studentMaps) = withoutGradients {
            (Set(teacher.eval().features(Tensor.zeros([2, 3, teacherInput, teacherInput])).maps.keys),
             Set(student.eval().features(Tensor.zeros([2, 3, studentInput, studentInput])).maps.keys))
        }
        for term in terms {
            guard teacherMaps.contains(term.teacherMap) else {
                throw TrainingError.invalidConfiguration("nst reads the teacher's feature map '\(term.teacherMap)', which it does not have (it has \(teacherMaps.sorted().joined(separator: ", ")))")
            }
            guard studentMaps.contains(term.studentMap) else {
                throw TrainingError.invalidConfiguration("nst reads the student's feature map '\(term.studentMap)', which it does not have (it has \(studentMaps.sorted().joined(separator: ", ")))")
            }
        }
        return Array(Set(terms.map(\.teacherMap))).sorted()
    }

    /// Rejects transfer terms this command cannot feed: `kd` needs class logits from both
    /// networks, which give embeddings here (it is for library use with ``Features/logits``), and
    /// DarkRank needs more samples per batch than its list is long.
    static func checkTransferInputs(_ transfer: WeightedTransferLoss?, batch: Int) throws {
        for term in transfer?.terms ?? [] {
            if term.loss is KnowledgeDistillation {
                throw TrainingError.invalidConfiguration("kd distils class logits, and these networks give embeddings only (a teacher's run keeps no classifier); use an embedding transfer (l2, nst, darkrank-soft, …) or kd from the library with Features.logits")
            }
            if let darkRank = term.loss as? DarkRank, batch < darkRank.minimumBatch {
                throw TrainingError.invalidConfiguration("\(term.name) ranks the other samples of a batch (\(darkRank.mode)), so it needs batches of at least \(darkRank.minimumBatch) per process, got \(batch)")
            }
        }
    }

    /// Trains into `output`: a new folder, created once the data and models are ready (an existing
    /// one replaced only with `overwrite`, left in place by a set-up that fails and kept until the
    /// run has succeeded: ``TrainingRunFolder/run(into:overwrite:resume:keeping:parallelism:warn:_:)``),
    /// or, with `resume`, the existing run, locked from the start, continued from its checkpoint.
    @discardableResult
    public func run(output: String, overwrite: Bool = false, resume: Bool = false) throws -> Result {
        try configuration.training.checkBeforeRunning(processes: parallelism?.processCount ?? 1, resume: resume)
        return try TrainingRunFolder.run(into: output, overwrite: overwrite, resume: resume, keeping: configuration.inputs,
                                         parallelism: parallelism, warn: warn) { claim in
            try train(output: output, resume: resume, claim: claim)
        }
    }

    private func train(output: String, resume: Bool, claim: TrainingRunFolder.Claim?) throws -> Result {
        var c = configuration
        let t = c.training
        let isRoot = parallelism?.isRoot ?? true
        let teacherWeights = ModelFactory.weightsFile(c.teacher!)
        let (teacher, teacherArchitecture) = try ModelFactory.load(weights: teacherWeights, name: c.teacherModel,
                                                                   embeddingSize: c.teacherEmbeddingSize, inputSize: c.teacherInputSize)
        let (source, dataset) = try t.openTrainingData()
        let data = RankInvariant.data(dataset)
        let teacherChecksum = RankInvariant.weights(teacher, name: "teacher weights checksum")
        if let parallelism, parallelism.processCount > 1 {
            // Every rank loads the teacher and opens the data itself; only the trained state is rank 0's.
            // (the data: ShardedBatches checks it when it shards)
            try parallelism.ensureSame([teacherChecksum], of: "the teacher (\(teacherWeights))",
                                       fix: "give every process the same teacher file (the same file at the same path on every machine)")
        }
        try ProcessAgreement.together(parallelism?.processAgreement) {
            guard resume && isRoot else { return }
            try TrainingRunFolder.checkUnchanged([teacherChecksum], key: Self.teacherChecksumKey, subject: "the teacher's weights \(teacherWeights)", in: output,
                                                 fix: "the teacher file changed since the run started (or another CrossRes version reads it into other tensors); resume with the original teacher weights and version, or start a new run (another --output)")
            try TrainingRunFolder.checkUnchanged(data, key: TrainingRunFolder.dataKey, subject: "the training data \(source)", in: output,
                                                 fix: TrainingRunFolder.dataChangedFix)
        }
        let architecture = try t.backbone()
        var generator = RandomGenerator(seed: t.seed)
        let student = try ModelFactory.make(architecture, using: &generator)
        if t.syncBatchnorm { parallelism?.synchroniseBatchNorm(in: student) }
        if c.initialisation == "teacher" {
            guard architecture == teacherArchitecture else {
                throw TrainingError.invalidConfiguration("--init teacher copies the teacher's weights, so the student must be the teacher's architecture: teacher \(teacherArchitecture), student \(architecture)")
            }
            try student.load(stateDict: teacher.stateDict(), source: teacherWeights)
        }
        let hr = teacherArchitecture.inputSize
        let degradationSpec = c.degradationSpec(hrSize: hr, inputSize: architecture.inputSize)
        c.degrade = degradationSpec  // (the run folder stores the spec it resolved: a resume gets the same views)
        let degradation = try Degradation(parsing: degradationSpec)
        guard let lr = degradation.outputSize(width: hr, height: hr), lr.width == architecture.inputSize, lr.height == architecture.inputSize else {
            throw TrainingError.invalidConfiguration("the degradation '\(degradationSpec)' must bring the teacher's \(hr)×\(hr) HR image to the student's \(architecture.inputSize)×\(architecture.inputSize) input; end it with up=\(architecture.inputSize)")
        }
        let head = t.makeHead(classes: dataset.identityCount, embeddingDimension: architecture.embeddingSize, using: &generator)
        let transfer = c.isBaseline ? nil : try TransferSpec.parse(c.transfer, configuration: TransferLossConfiguration(
            studentEmbeddingDimension: architecture.embeddingSize, teacherEmbeddingDimension: teacherArchitecture.embeddingSize,
            classes: dataset.identityCount, featureMap: c.featureMap ?? ModelFactory.model(named: architecture.name).defaultFeatureMap,
            generator: generator.split()))
        try Self.checkTransferInputs(transfer, batch: t.batch / (parallelism?.processCount ?? 1))
        let critic = transfer.flatMap { $0.criticParameters.isEmpty ? nil : $0.criticParameters }
        if critic == nil && !resume { try c.checkCriticSettingsUnused() }  // (a resume keeps what its folder stored)
        let teacherMaps = try Self.checkFeatureMaps(transfer, teacher: teacher, student: student,
                                                    teacherInput: hr, studentInput: architecture.inputSize)
        let optimizer = try distributed(t.makeOptimizer(DistillationTask.studentParameters(student: student, head: head, transfer: transfer)))
        let criticOptimizer = try critic.map { try distributed(Adam(parameters: $0, learningRate: c.criticLr, beta1: 0.5, beta2: 0.9, epsilon: 1e-8)) }
        let globalBatches = try t.makeBatches(dataset, hrSize: hr, degradation: degradation, warn: isRoot ? warn : { _ in })
        let batches = try parallelism?.shard(globalBatches) ?? globalBatches  // (before the teacher's pass: its checks are quick)
        var cache: TeacherFeatureCache?
        if c.cacheTeacher {
            let views = ResizedDataset(dataset, size: hr)
            say("caching the teacher's features of \(dataset.count) images" + (teacherMaps.isEmpty ? "" : " (maps \(teacherMaps.joined(separator: ", ")))"))
            // (Each rank's limit is its machine's: a cache over one rank's limit stops every rank.)
            cache = try ProcessAgreement.together(parallelism?.processAgreement) {
                try TeacherFeatureCache(teacher: teacher, count: dataset.count, keepingMaps: teacherMaps, memoryLimit: teacherCacheLimit) { range in
                    Image.batchTensor(try range.map { try views.sample(at: $0).image })
                }
            }
        }
        let distillation = DistillationTask(teacher: teacher, student: student, head: head, transfer: transfer, optimizer: optimizer,
                                            criticOptimizer: criticOptimizer, teacherCache: cache, encoderGate: c.gate)
        let task = parallelism?.distribute(distillation) ?? distillation

        let (run, start) = try TrainingRunFolder.open(output, configuration: c, claim: claim, task: task, parallelism: parallelism)
        if start == t.steps, let finished = run?.result(Result.self) {
            say("\(output) is complete (step \(start) of \(t.steps)); nothing to resume")
            return finished
        }
        say("student \(architecture) from \(c.initialisation) ← teacher \(teacherArchitecture) (\(teacherWeights)); transfer \(transfer?.name ?? "none (baseline)"); LR view \(degradationSpec); \(dataset.count) images of \(dataset.identityCount) identities"
            + (resume ? "; resuming at step \(start) of \(t.steps)" : "") + "; run folder \(output)")
        let metadata = ["crossres.command": "distill", "crossres.settings": String(decoding: try c.withAbsolutePaths().jsonData(), as: UTF8.self),
                        Self.teacherChecksumKey: teacherChecksum.text, TrainingRunFolder.dataKey: TrainingRunFolder.record(data)]
        let summary = try run?.train(task, batches: batches, steps: t.steps, startStep: start, checkpointEvery: t.checkpointEvery,
                                     label: "student", metadata: metadata,
                                     criticCollapse: CriticCollapseDetector(window: c.criticCollapseWindow, stops: c.stopOnCriticCollapse))
            ?? TrainingLoop(steps: t.steps, criticCollapse: nil).run(task, batches: batches, startStep: start)  // rank 0 watches the critic
        let weights = (output as NSString).appendingPathComponent(ModelFactory.backboneFileName)
        if isRoot { try ModelFactory.save(student, configuration: architecture, to: weights) }
        let result = Result(student: architecture, teacher: teacherArchitecture, teacherWeights: teacherWeights,
                            transfer: transfer?.name ?? "none", degradation: degradationSpec, initialisation: c.initialisation,
                            data: source.description, images: dataset.count, identities: dataset.identityCount, steps: t.steps,
                            resumedFrom: resume ? start : nil, seconds: summary.seconds,
                            finalTerms: Dictionary(summary.lastTerms.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }), weights: weights)
        try run?.writeResult(result)
        say(String(format: "student trained in %.1f s; weights %@", summary.seconds, weights))
        return result
    }

    /// `optimizer`, data-parallel when the run is.
    private func distributed(_ optimizer: any Optimizer) throws -> any Optimizer {
        try parallelism?.distribute(optimizer) ?? optimizer
    }
}
