import Foundation
import Tensor

/// Runs a ``TrainingTask`` for a number of steps over a ``BatchProvider``, with the callbacks
/// every run wants: progress, a JSON-lines metrics log, periodic evaluation, periodic and final
/// checkpoints, exact resume, and a NaN/Inf guard.
///
/// Resume is bit-identical: the batch of a step depends only on the step, and the checkpoint
/// holds every parameter, buffer and optimiser moment (same thread count assumed).
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

    public init(steps: Int, checkpointPath: String? = nil, checkpointEvery: Int? = nil, log: MetricsLog? = nil,
                progress: ProgressReporter? = nil, evaluateEvery: Int? = nil, evaluate: ((Int) throws -> [String: Double])? = nil,
                metadata: [String: String] = [:]) {
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
    }

    /// What a finished run reports.
    public struct Summary {
        /// Loss terms of the last step.
        public var lastTerms: [(name: String, value: Float)]
        /// The last evaluation's numbers.
        public var lastEvaluation: [String: Double]
        public var seconds: Double
    }

    /// Trains from `startStep` (0, or the step of a restored checkpoint) to ``steps``.
    @discardableResult
    public func run(_ task: any TrainingTask, batches: any BatchProvider, startStep: Int = 0) throws -> Summary {
        precondition(startStep >= 0 && startStep <= steps, "TrainingLoop: start step \(startStep) outside 0...\(steps)")
        let started = Date()
        var lastTerms: [(name: String, value: Float)] = []
        var lastEvaluation: [String: Double] = [:]
        var lastCheckpoint: String? = nil
        if let checkpointPath, startStep > 0 { lastCheckpoint = checkpointPath }
        progress?.begin(atStep: startStep)
        for step in startStep..<steps {
            let batch = try batches.batch(atStep: step)
            let progressFraction = steps > 1 ? Float(step) / Float(steps - 1) : 1
            do {
                lastTerms = try task.step(batch, progress: min(progressFraction, 1))
            } catch TrainingError.nonFinite(_, let what, _) {
                try log?.append(["step": step + 1, "event": "non-finite", "what": what])
                throw TrainingError.nonFinite(step: step + 1, what: what, lastCheckpoint: lastCheckpoint)
            }
            let done = step + 1
            progress?.update(step: done, batch: batch.count, terms: lastTerms.map { ($0.name, $0.value) })
            var record: [String: Any] = ["step": done]
            for (name, value) in lastTerms { record[name] = Double(value) }
            if let evaluate, let every = evaluateEvery, done % every == 0 || done == steps {
                lastEvaluation = try evaluate(done)
                for (name, value) in lastEvaluation { record["eval/" + name] = value }
            }
            try log?.append(record)
            if let checkpointPath, done == steps || checkpointEvery.map({ done % $0 == 0 }) == true {
                try Checkpoint(capturing: task, step: done, metadata: metadata).write(to: checkpointPath)
                lastCheckpoint = checkpointPath
            }
        }
        return Summary(lastTerms: lastTerms, lastEvaluation: lastEvaluation, seconds: Date().timeIntervalSince(started))
    }

    /// Restores `task` from the checkpoint at `path` and returns the step to continue from.
    public static func resume(_ task: any TrainingTask, from path: String) throws -> Int {
        let checkpoint = try Checkpoint(contentsOf: path)
        try checkpoint.restore(task, path: path)
        return checkpoint.step
    }
}
