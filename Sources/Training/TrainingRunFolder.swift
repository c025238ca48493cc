import Foundation
import Evaluation
import Tensor

/// The folder of a command-line training run, created fresh or reopened to resume:
///
///     settings.json            the run's configuration (usable as --config for a new run)
///     checkpoint.safetensors   models, heads, optimisers and step (every N steps and at the end)
///     metrics.jsonl            one JSON record per step
///     backbone.safetensors     the final backbone (PyTorch names; model and sizes in the metadata)
///     result.json              what the finished run reports
///
/// Resuming restores the checkpoint and continues with the same batches, so the run ends
/// bit-identical to one never interrupted (same machine and thread count). Records of steps
/// after the checkpoint are dropped from the metrics log first, so each step is logged once.
public struct TrainingRunFolder {
    public let folder: RunFolder
    public static let settingsName = "settings.json"
    public static let checkpointName = "checkpoint.safetensors"
    public static let metricsName = "metrics.jsonl"
    public static let resultName = "result.json"

    /// Settings that a resumed run may change (they do not affect the numbers; a resume on
    /// another machine may need another `teacher-cache-limit`).
    public static let settingsChangeableOnResume: Set<String> = ["checkpoint-every", "workers", "critic-collapse-window", "stop-on-critic-collapse",
                                                                 "teacher-cache-limit"]

    public var path: String { folder.path }
    public var checkpointPath: String { folder.file(Self.checkpointName) }

    /// Creates the folder (an existing one is an error unless `overwrite`) and writes the
    /// settings, their paths made absolute (a resume may run from another directory).
    public static func create<C: RunConfiguration>(_ path: String, configuration: C, overwrite: Bool) throws -> TrainingRunFolder {
        try withSettings(try RunFolder(creating: path, overwrite: overwrite, keeping: configuration.inputs), configuration)
    }

    /// The run folder `folder` with `configuration` written as its settings, paths absolute —
    /// unless the run in it has finished (has a result): a resume then changes nothing.
    private static func withSettings<C: RunConfiguration>(_ folder: RunFolder, _ configuration: C) throws -> TrainingRunFolder {
        if !FileManager.default.fileExists(atPath: folder.file(resultName)) {
            try folder.write(try configuration.withAbsolutePaths().jsonData(), to: settingsName)
        }
        return TrainingRunFolder(folder: folder)
    }

    /// The configuration a resumed run continues with: the folder's stored settings with
    /// `layers` applied, paths absolute. A layer may repeat a stored value (a relative path
    /// meaning the stored one counts as the same); changing any setting except
    /// ``settingsChangeableOnResume`` is an error naming it (start a new run instead), and so is a
    /// folder another run is writing (``RunFolder/checkNotBeingWritten(_:)``).
    public static func resumedConfiguration<C: RunConfiguration>(_ path: String, as type: C.Type,
                                                                 layers: [ConfigurationLayer]) throws -> C {
        let settings = (path as NSString).appendingPathComponent(settingsName)
        guard FileManager.default.fileExists(atPath: settings) else {
            throw TrainingError.invalidConfiguration("cannot resume \(path): \(FileManager.default.fileExists(atPath: path) ? "it has no \(settingsName) (not a training run folder)" : "no such folder" + RunFolder.leftoverNote(path))")
        }
        try RunFolder.checkNotBeingWritten(path)
        let written = try ConfigurationLayer(contentsOf: settings)
        let storedLayer: ConfigurationLayer, stored: C
        do {
            storedLayer = try C.completingEarlierVersion(written)
            stored = try C.layered([storedLayer]).withAbsolutePaths()
        } catch let error as TrainingError {
            // A folder of another command (a teacher's run given to distill, or the reverse) fails here.
            throw TrainingError.invalidConfiguration("cannot resume \(path) with this command: its \(settingsName) does not fit it (\(error)); a run folder resumes with the command that started it (crossres train-teacher or crossres distill), and only while its settings are valid for this version (else start a new run)")
        }
        let resumed = try C.layered([storedLayer] + layers).withAbsolutePaths()
        let changed = resumed.changedKeys(comparedTo: stored).filter { !settingsChangeableOnResume.contains($0) }
        guard changed.isEmpty else {
            let stored = stored.jsonObject, now = resumed.jsonObject
            let list = changed.map { "'\($0)' (run: \(stored[$0].map(C.canonical) ?? "unset"), now: \(now[$0].map(C.canonical) ?? "unset"))" }
            throw TrainingError.invalidConfiguration("a resumed run keeps its settings, but \(list.joined(separator: ", ")) changed; start a new run (another --output) instead")
        }
        return resumed
    }

    /// Reopens an existing run folder, its lock taken (``RunFolder/init(existing:)``), rewriting
    /// its settings (only changeable ones may differ) unless the run has finished.
    public static func reopen<C: RunConfiguration>(_ path: String, configuration: C) throws -> TrainingRunFolder {
        try withSettings(try RunFolder(existing: path), configuration)
    }

    /// How rank 0 of a run holds its output folder from the run's start, before its set-up
    /// (``run(into:overwrite:resume:keeping:parallelism:warn:_:)`` takes it,
    /// ``open(_:configuration:claim:task:parallelism:)`` uses it): a new run's folder, to be
    /// created once the set-up is done, an earlier output there locked meanwhile; or a resumed
    /// run's folder, locked.
    public enum Claim {
        case new(RunFolder.DeferredCreation)
        case resumed(RunFolder)
    }

    /// The run folder of a possibly data-parallel run and the step it starts at: on rank 0 the
    /// folder of its `claim` (which rank 0 must give) is created, or reopened and `task`
    /// restored from its checkpoint; the other ranks (`claim` `nil`) get `nil` and rank 0's
    /// weights, buffers, optimiser state, dropout generators and step. When rank 0 cannot
    /// create, reopen or restore (a checkpoint whose optimiser state does not fit), every process
    /// throws (``ProcessAgreement/together(_:_:)``).
    public static func open<C: RunConfiguration>(_ path: String, configuration: C, claim: Claim?, task: any TrainingTask,
                                                 parallelism: (any DataParallelism)?) throws -> (run: TrainingRunFolder?, start: Int) {
        let opened = try ProcessAgreement.together(parallelism?.processAgreement) { () throws -> (run: TrainingRunFolder, start: Int)? in
            guard parallelism?.isRoot ?? true else { return nil }
            let run: TrainingRunFolder, resumed: Bool
            switch claim {
            case .new(let creation)?: (run, resumed) = (try withSettings(try creation.create(), configuration), false)
            case .resumed(let folder)?: (run, resumed) = (try withSettings(folder, configuration), true)
            case nil: preconditionFailure("TrainingRunFolder.open: rank 0 opens \(path) through the Claim of TrainingRunFolder.run(into:)")
            }
            let start = resumed ? try run.restore(task) : 0
            _ = try MetricsLog(path: run.folder.file(metricsName))  // (a log rank 0 cannot open stops every rank here)
            return (run, start)
        }
        let start = opened?.start ?? 0
        return (opened?.run, try parallelism?.synchronise(task, step: start) ?? start)
    }

    /// Runs `train`, a trainer's whole run into the folder `output`, with rank 0's ``Claim`` on
    /// it (the other ranks get `nil`; rank 0 alone writes the folder), taken before the set-up in
    /// a step every process stops on when it fails (``ProcessAgreement/together(_:_:)``): for a
    /// new run a ``RunFolder/DeferredCreation`` (the folder checked, an earlier output locked,
    /// and replaced only once `train` has created the folder after its set-up and succeeded —
    /// put back when it fails before its first checkpoint); for a resume the folder, locked for
    /// the whole run. Give the claim to ``open(_:configuration:claim:task:parallelism:)``.
    public static func run<T>(into output: String, overwrite: Bool, resume: Bool, keeping inputs: RunInputs,
                              parallelism: (any DataParallelism)?, warn: (String) -> Void,
                              _ train: (Claim?) throws -> T) throws -> T {
        let isRoot = parallelism?.isRoot ?? true
        let claim = try ProcessAgreement.together(parallelism?.processAgreement) { () throws -> Claim? in
            guard isRoot else { return nil }
            if resume { return .resumed(try RunFolder(existing: output)) }
            return .new(try RunFolder.DeferredCreation(output, overwrite: overwrite, keeping: inputs, worthKeeping: holdsCheckpoint))
        }
        switch claim {
        case .new(let creation)?: return try creation.run(warn: warn) { try train(claim) }
        case .resumed?:
            RunFolder.warnOfLeftovers(output, warn: warn)
            return try train(claim)
        case nil: return try train(nil)
        }
    }

    /// Whether the run folder `path` holds a checkpoint: what a failed run leaves worth keeping
    /// (a run that failed before its first one is started again, not resumed).
    static func holdsCheckpoint(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent(checkpointName))
    }

    /// The checkpoint metadata key of the training data's ``RankInvariant/data(_:)`` record.
    public static let dataKey = "crossres.data"

    /// What to do when the training data changed since a run started.
    static let dataChangedFix = "images were added, removed or relabelled since the run started; resume with the original data, or start a new run (another --output)"

    /// `invariants` as checkpoint metadata: a single one's value, else `name value` pairs.
    public static func record(_ invariants: [RankInvariant]) -> String {
        invariants.count == 1 ? invariants[0].text : invariants.map { "\($0.name) \($0.text)" }.joined(separator: ", ")
    }

    /// Throws when the checkpoint of the run folder `output` stores under `key` another
    /// ``record(_:)`` than `invariants` give now: `subject` (what the run reads, e.g. the teacher
    /// file) changed since the run started, and `fix` says what to do. A checkpoint without the
    /// key (written before it was stored), or no checkpoint, passes; an unreadable one is left
    /// to the restore, which names the problem.
    public static func checkUnchanged(_ invariants: [RankInvariant], key: String, subject: String, in output: String, fix: String) throws {
        let path = (output as NSString).appendingPathComponent(checkpointName)
        guard FileManager.default.fileExists(atPath: path) else { return }
        let now = record(invariants)
        guard let stored = (try? Safetensors.metadata(contentsOf: URL(fileURLWithPath: path)))?[key], stored != now else { return }
        throw TrainingError.invalidConfiguration("\(subject) (\(now)) are not the ones this run was trained with (\(stored) in \(path)): \(fix)")
    }

    /// Restores `task` from the folder's checkpoint and returns its step (0 without a
    /// checkpoint: the run was stopped before the first one), dropping later metrics records
    /// (all step records without a checkpoint: the run starts again, and logs each step once).
    public func restore(_ task: any TrainingTask) throws -> Int {
        let step = FileManager.default.fileExists(atPath: checkpointPath) ? try TrainingLoop.resume(task, from: checkpointPath) : 0
        try trimMetrics(after: step)
        return step
    }

    /// Keeps the metrics records of steps `1...step` and records without a step; drops lines that
    /// are not JSON objects (the half-written last line of a killed run).
    func trimMetrics(after step: Int) throws {
        let path = folder.file(Self.metricsName)
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return false }
            guard let recordStep = object["step"] as? Int else { return true }
            return recordStep <= step
        }
        try folder.write(Data(kept.map { $0 + "\n" }.joined().utf8), to: Self.metricsName)
    }

    /// Runs `task` from `startStep` to `steps` with progress, the metrics log, checkpoints and
    /// the critic-collapse watch.
    @discardableResult
    public func train(_ task: any TrainingTask, batches: any BatchProvider, steps: Int, startStep: Int, checkpointEvery: Int,
                      label: String, metadata: [String: String] = [:],
                      criticCollapse: CriticCollapseDetector? = CriticCollapseDetector()) throws -> TrainingLoop.Summary {
        let loop = TrainingLoop(steps: steps, checkpointPath: checkpointPath, checkpointEvery: checkpointEvery,
                                log: try MetricsLog(path: folder.file(Self.metricsName)),
                                progress: ProgressReporter(label: label, total: steps), metadata: metadata, criticCollapse: criticCollapse)
        var summary = try loop.run(task, batches: batches, startStep: startStep)
        if startStep == steps && summary.lastTerms.isEmpty { summary.lastTerms = loggedTerms(ofStep: steps) }
        return summary
    }

    /// The loss terms the metrics log holds for `step` (a resume of a run killed after its last
    /// checkpoint runs no step, and reports the last step's terms from there); none without one.
    func loggedTerms(ofStep step: Int) -> [(name: String, value: Float)] {
        guard let data = FileManager.default.contents(atPath: folder.file(Self.metricsName)) else { return [] }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").reversed() {
            guard let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  record["step"] as? Int == step, record["event"] == nil else { continue }
            return record.compactMap { name, value in
                guard name != "step" && !name.hasPrefix("eval/") else { return nil }
                return (value as? Double).map { (name, Float($0)) } ?? (value as? String).flatMap(Float.init).map { (name, $0) }
            }.sorted { $0.name < $1.name }
        }
        return []
    }

    /// The `result.json` of a finished run, if there is one.
    public func result<Value: Decodable>(_ type: Value.Type) -> Value? {
        try? ReportWriter.readJSON(type, from: URL(fileURLWithPath: folder.file(Self.resultName)))
    }

    /// Writes `value` as `result.json` (after the final weights, so a run with a result is complete).
    public func writeResult<Value: Encodable>(_ value: Value) throws {
        try ReportWriter.writeJSON(value, to: URL(fileURLWithPath: folder.file(Self.resultName)))
    }
}
