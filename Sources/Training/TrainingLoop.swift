import Foundation
import Tensor

/// Runs a ``TrainingTask`` for a number of steps over a ``BatchProvider``, with the callbacks
/// every run wants: progress, a JSON-lines metrics log, periodic evaluation, periodic and final
/// checkpoints, exact resume, and numerical-health guards.
///
/// Health: a NaN or infinity in a loss term or a gradient (checked by the task before its
/// optimiser steps), in a parameter or buffer after the step (a BatchNorm running statistic,
/// named with its layer), or in the optimiser state about to be checkpointed stops the run with
/// ``TrainingError/nonFinite(step:what:lastCheckpoint:)`` at that step, logged as a
/// `"non-finite"` event. The checkpoint file is only ever written from a state that passed these
/// checks, so the last good checkpoint is never overwritten by a bad one. A task reporting
/// `critic_accuracy` is watched by ``criticCollapse``.
///
/// Data-parallel (a task with a ``TrainingTask/processAgreement``, e.g. `DataParallelTask`): the
/// task's checks and the state check are decided with every process, so every process stops at
/// the same step with the same error, naming the rank that found the value and rank 0's last
/// checkpoint (the other ranks write none), and every process waits until rank 0 has logged the
/// event before it throws. What rank 0 alone does after a step — the evaluation, the log, the
/// checkpoint and its optimiser-state check — and the critic-collapse stop are agreed too
/// (``ProcessAgreement/together(_:_:)``, one all-gather per step): when they throw on one
/// process, every process stops at that step.
///
/// Resume is bit-identical: the batch of a step depends only on the step, and the checkpoint
/// holds every parameter, buffer, optimiser moment and dropout generator (same thread count
/// assumed). It also holds
/// ``criticCollapse``'s count of pinned steps: a run whose `startStep` is the step of the
/// checkpoint at ``checkpointPath`` goes on counting from it (resume from the loop's own
/// checkpoint, as ``TrainingRunFolder`` does; see ``CriticCollapseDetector`` for a changed window).
public struct TrainingLoop {
    /// Total number of steps of the run (a resumed run stops at the same total).
    public var steps: Int
    /// Where checkpoints are written (`nil`: none).
    public var checkpointPath: String?
    /// Steps between checkpoints (a checkpoint is also written at the end).
    public var checkpointEvery: Int?
    public var log: MetricsLog?
    public var progress: ProgressReporter?
    /// Steps between evaluations, and the evaluation (its numbers are logged and returned).
    public var evaluateEvery: Int?
    public var evaluate: ((Int) throws -> [String: Double])?
    /// Extra metadata stored in every checkpoint (configuration, seed).
    public var metadata: [String: String]
    /// Watches the `critic_accuracy` term, if the task reports one (`nil`: not watched). A
    /// collapse is logged as a `"critic-collapse"` event and passed to ``warn``; it stops the
    /// run only when the detector ``CriticCollapseDetector/stops``.
    public var criticCollapse: CriticCollapseDetector?
    /// Where warnings go (default: standard error, one `warning:` line each).
    public var warn: (String) -> Void

    public init(steps: Int, checkpointPath: String? = nil, checkpointEvery: Int? = nil, log: MetricsLog? = nil,
                progress: ProgressReporter? = nil, evaluateEvery: Int? = nil, evaluate: ((Int) throws -> [String: Double])? = nil,
                metadata: [String: String] = [:], criticCollapse: CriticCollapseDetector? = CriticCollapseDetector(),
                warn: @escaping (String) -> Void = TrainingLoop.standardErrorWarning) {
        precondition(steps >= 0, "TrainingLoop: negative step count \(steps)")
        precondition(checkpointEvery.map { $0 > 0 } ?? true, "TrainingLoop: checkpointEvery must be positive")
        precondition(evaluateEvery.map { $0 > 0 } ?? true, "TrainingLoop: evaluateEvery must be positive")
        self.steps = steps
        self.checkpointPath = checkpointPath
        self.checkpointEvery = checkpointEvery
        self.log = log
        self.progress = progress
        self.evaluateEvery = evaluateEvery
        self.evaluate = evaluate
        self.metadata = metadata
        self.criticCollapse = criticCollapse
        self.warn = warn
    }

    /// Writes `warning: <message>` to standard error, on its own line.
    public static func standardErrorWarning(_ message: String) {
        FileHandle.standardError.write(Data("\nwarning: \(message)\n".utf8))
    }

    /// What a finished run reports.
    public struct Summary {
        /// Loss terms of the last step.
        public var lastTerms: [(name: String, value: Float)]
        /// The last evaluation's numbers.
        public var lastEvaluation: [String: Double]
        public var seconds: Double
        /// The warnings of the run (critic collapses), as passed to ``warn``.
        public var warnings: [String]
    }

    /// Trains from `startStep` (0, or the step of a restored checkpoint) to ``steps``; a start
    /// outside `0...steps` (a checkpoint of a longer run, or a settings file edited to fewer
    /// steps) is an error.
    @discardableResult
    public func run(_ task: any TrainingTask, batches: any BatchProvider, startStep: Int = 0) throws -> Summary {
        guard startStep >= 0 && startStep <= steps else {
            throw TrainingError.invalidConfiguration("cannot start at step \(startStep): this run has \(steps) steps"
                                                     + (startStep > steps ? " (is its checkpoint from a longer run?)" : ""))
        }
        let started = Date()
        var lastTerms: [(name: String, value: Float)] = []
        var lastEvaluation: [String: Double] = [:]
        var lastCheckpoint: String? = nil
        if let checkpointPath, startStep > 0 { lastCheckpoint = checkpointPath }
        let state = StateWatch(task.checkpointedModules)
        var collapse = criticCollapse
        if startStep > 0, let checkpointPath, let stored = try? Safetensors.metadata(contentsOf: URL(fileURLWithPath: checkpointPath)),
           stored[Checkpoint.stepKey] == String(startStep), let value = stored[CriticCollapseDetector.checkpointKey] {
            collapse?.restore(checkpointValue: value)  // resumed from this loop's checkpoint: go on counting
        }
        var warnings: [String] = []
        let agreement = task.processAgreement  // nil: one process
        /// Stops at `step`. `everyProcess`: every process stops here with the same `what` (the
        /// task's agreed checks, the state check): they take rank 0's last checkpoint (the others
        /// write none) and wait until rank 0 has logged the event, so that no process ends the
        /// job (a rank that throws aborts it) before the log holds it.
        func stop(_ step: Int, _ what: String, everyProcess: Bool = true) throws -> Never {
            var last = lastCheckpoint
            if everyProcess, let agreement { last = try agreement.rootValue(last) }
            try log?.append(["step": step, "event": "non-finite", "what": what])
            if everyProcess, let agreement { try agreement.barrier() }
            throw TrainingError.nonFinite(step: step, what: what, lastCheckpoint: last)
        }
        progress?.begin(atStep: startStep)
        for step in startStep..<steps {
            // (A batch that fails on one rank — a damaged image in its shard — stops every rank.)
            let batch = try ProcessAgreement.together(agreement) { try batches.batch(atStep: step) }
            let progressFraction = steps > 1 ? Float(step) / Float(steps - 1) : 1
            do {
                lastTerms = try task.step(batch, progress: min(progressFraction, 1))
            } catch TrainingError.nonFinite(_, let what, _) {
                try stop(step + 1, what)
            }
            let done = step + 1
            // (The replicas' states are identical, but agreeing costs one tiny collective and
            // keeps every rank on the same path should they ever differ.)
            let badState = state.firstNonFinite()
            if let what = try agreement.map({ try $0.firstFailure(badState) }) ?? badState { try stop(done, what) }
            progress?.update(step: done, batch: batch.count, terms: lastTerms.map { ($0.name, $0.value) })
            // What rank 0 alone does after a step (evaluation, log, checkpoint) can fail on rank 0
            // alone: agreed, so every process stops with it instead of waiting in the next step.
            try ProcessAgreement.together(agreement) {
                var record: [String: Any] = ["step": done]
                for (name, value) in lastTerms { record[name] = Double(value) }
                if let evaluate, evaluateEvery.map({ done % $0 == 0 }) ?? false || done == steps {
                    lastEvaluation = try evaluate(done)
                    for (name, value) in lastEvaluation { record["eval/" + name] = value }
                }
                try log?.append(record)
                if let accuracy = lastTerms.first(where: { $0.name == "critic_accuracy" })?.value,
                   collapse?.observe(accuracy) == true, let detector = collapse {
                    let message = detector.describe(accuracy)
                    try log?.append(["step": done, "event": "critic-collapse", "critic_accuracy": Double(accuracy),
                                     "window": detector.window, "message": message])
                    if detector.stops { throw TrainingError.criticCollapse(step: done, detail: message, lastCheckpoint: lastCheckpoint) }
                    warnings.append("step \(done): \(message)")
                    warn(warnings.last!)
                }
                if let checkpointPath, done == steps || checkpointEvery.map({ done % $0 == 0 }) == true {
                    var stored = metadata
                    if let collapse { stored[CriticCollapseDetector.checkpointKey] = collapse.checkpointValue }
                    let checkpoint = Checkpoint(capturing: task, step: done, metadata: stored)
                    if let bad = checkpoint.firstNonFiniteEntry {  // (rank 0 alone checkpoints: agreed by `together`)
                        try stop(done, "checkpoint entry '\(bad)' (optimiser state)", everyProcess: false)
                    }
                    try checkpoint.write(to: checkpointPath)
                    lastCheckpoint = checkpointPath
                }
            }
        }
        return Summary(lastTerms: lastTerms, lastEvaluation: lastEvaluation, seconds: Date().timeIntervalSince(started),
                       warnings: warnings)
    }

    /// Restores `task` from the checkpoint at `path` and returns the step to continue from.
    public static func resume(_ task: any TrainingTask, from path: String) throws -> Int {
        let checkpoint = try Checkpoint(contentsOf: path)
        try checkpoint.restore(task, path: path)
        return checkpoint.step
    }
}
