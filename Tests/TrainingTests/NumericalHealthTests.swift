import Foundation
import Testing
import CrossRes
@testable import Training

/// A backbone whose extra parameter `spike` enters as √(c·spike): its gradient is infinite when
/// c = 0, which happens on forward call `poisonCall` (0-based) only. The loss stays finite.
final class SpikyEmbedder: FeatureExtractor {
    let inner: TinyEmbedder
    let spike = Parameter(Tensor([1]))
    let poisonCall: Int
    private var calls = 0
    init(inputs: Int, seed: UInt64, poisonCall: Int) {
        inner = TinyEmbedder(inputs: inputs, seed: seed)
        self.poisonCall = poisonCall
    }
    func features(_ x: Tensor) -> Features {
        defer { calls += 1 }
        let c: Float = calls == poisonCall && isTraining ? 0 : 1
        let f = inner.features(x)
        return Features(embedding: f.embedding + (spike.value * c).sqrt() * 0.01, maps: f.maps)
    }
}

/// One BatchNorm layer and a scalar weight: the smallest net with running statistics.
final class NormProbe: Module {
    let bn = BatchNorm2d(2)
    let scale = Parameter(Tensor([1]))
}

/// A task that runs `loss(stepIndex, net)` and an optimiser step through the same guards as
/// the library's tasks, and reports any extra terms the script adds.
final class ScriptedTask: TrainingTask {
    let net = NormProbe()
    let optimizer: any Optimizer
    let script: (Int, NormProbe) -> (loss: Tensor, extra: [(name: String, value: Float)])
    private var index = 0
    init(adam: Bool = false, _ script: @escaping (Int, NormProbe) -> (loss: Tensor, extra: [(name: String, value: Float)])) {
        optimizer = adam ? Adam(parameters: net.parameters(), learningRate: 1e-3) as any Optimizer
                         : SGD(parameters: net.parameters(), learningRate: 1e-3)
        self.script = script
    }
    var checkpointedModules: [(name: String, module: any Module)] { [("net", net)] }
    var optimizers: [(name: String, optimizer: any Optimizer)] { [("optimizer", optimizer)] }
    func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        defer { index += 1 }
        let (loss, extra) = script(index, net)
        let terms = [(name: "loss", value: loss.item)] + extra
        try ensureFinite(terms)
        let gradients = loss.backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}

/// Collects warnings from the loop's `warn` closure.
final class WarningBox { var messages: [String] = [] }

/// A task run as one of several processes, as `DataParallelTask` runs it: the inner step with
/// `agreement` bound, which the loop reads too.
final class AgreeingTask: TrainingTask {
    let inner: any TrainingTask
    let agreement: ProcessAgreement
    init(_ inner: any TrainingTask, agreement: ProcessAgreement) {
        self.inner = inner
        self.agreement = agreement
    }
    var checkpointedModules: [(name: String, module: any Module)] { inner.checkpointedModules }
    var optimizers: [(name: String, optimizer: any Optimizer)] { inner.optimizers }
    var processAgreement: ProcessAgreement? { agreement }
    func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        try ProcessAgreement.$current.withValue(agreement) { try inner.step(batch, progress: progress) }
    }
}

@Suite struct NumericalHealthTests {
    /// Runs `loop` expecting a non-finite stop; returns (step, what, last checkpoint).
    func expectNonFiniteStop(_ run: () throws -> Void) -> (step: Int, what: String, last: String?, message: String)? {
        do {
            try run()
            Issue.record("expected the health guard to stop training")
        } catch let error as TrainingError {
            if case let .nonFinite(step, what, last) = error { return (step, what, last, "\(error)") }
            Issue.record("wrong error \(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    /// A classifier task whose backbone's `spike` gradient is infinite on forward call `poisonCall`.
    func spikyClassifier(poisonCall: Int) -> ClassifierTask {
        var g = RandomGenerator(seed: 1)
        let backbone = SpikyEmbedder(inputs: 16, seed: 3, poisonCall: poisonCall)
        let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
        return ClassifierTask(backbone: backbone, head: head,
                              optimizer: Adam(parameters: backbone.parameters() + head.parameters(), learningRate: 1e-2))
    }

    @Test func nonFiniteGradientStopsAtItsStepAndNamesTheParameter() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/checkpoint.safetensors"
        let loop = TrainingLoop(steps: 8, checkpointPath: path, checkpointEvery: 1)
        let stop = try #require(expectNonFiniteStop {
            try loop.run(spikyClassifier(poisonCall: 4), batches: RandomBatches(seed: 5))
        })
        #expect(stop.step == 5)
        #expect(stop.what == "gradient of 'backbone.spike'")
        #expect(stop.last == path && stop.message.contains("last good checkpoint is kept at \(path)"))
        // The kept checkpoint is exactly the state of a clean run after 4 steps.
        let kept = try Checkpoint(contentsOf: path)
        let clean = spikyClassifier(poisonCall: -1)
        try TrainingLoop(steps: 4).run(clean, batches: RandomBatches(seed: 5))
        let expected = Checkpoint(capturing: clean, step: 4).tensors
        #expect(kept.step == 4 && Set(kept.tensors.keys) == Set(expected.keys))
        for (name, tensor) in expected { #expect(kept.tensors[name]?.scalars == tensor.scalars, "\(name)") }
    }

    @Test func distillationGradientGuardNamesTheStudentParameter() throws {
        var g = RandomGenerator(seed: 7)
        let student = SpikyEmbedder(inputs: 16, seed: 2, poisonCall: 2)
        let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
        let transfer = WeightedTransferLoss([(5, FeatureL2Transfer())])
        let task = DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: head, transfer: transfer,
                                    optimizer: Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer),
                                                    learningRate: 1e-2))
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let log = try MetricsLog(path: folder + "/metrics.jsonl")
        let stop = try #require(expectNonFiniteStop {
            try TrainingLoop(steps: 5, log: log).run(task, batches: RandomBatches(seed: 1))
        })
        #expect(stop.step == 3 && stop.what == "gradient of 'student.spike'" && stop.last == nil)
        let lines = try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n")
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as! [String: Any]
        #expect(lines.count == 3)
        #expect(last["event"] as? String == "non-finite" && last["step"] as? Int == 3)
        #expect(last["what"] as? String == "gradient of 'student.spike'")
    }

    /// This process is rank `rank` of two; the other rank finds an infinite gradient at the third
    /// step (the fake agreement answers its verdict at that check), this one none. Every check
    /// asked the agreement (the batch, inputs, terms, gradients, the loop's state check and its
    /// work after the step: six per step); the
    /// stop comes at step 3 before this rank's update, names the other rank, and takes rank 0's
    /// last checkpoint — rank 1 writes none, and said "no checkpoint was written yet" — while
    /// rank 0 logs the event before the barrier that lets any rank throw (and abort the job).
    @Test(arguments: [0, 1])
    func anotherRanksNonFiniteGradientStopsThisRankTogether(rank: Int) throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/checkpoint.safetensors", logPath = scratch + "/metrics.jsonl"
        let other = "gradient of 'backbone.spike' on rank \(1 - rank)"
        let calls = AgreementCalls()
        let agreement = ProcessAgreement(rank: rank, processCount: 2, mean: { $0 }, firstFailure: { local in
            calls.verdicts.append(local)
            return calls.verdicts.count == 2 * 6 + 4 ? other : local  // step index 2's gradient check
        }, rootValue: { value in
            calls.rootValues.append(value)
            return rank == 0 ? value : "rank 0's " + path
        }, barrier: {
            calls.barriers += 1
            let logged = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            #expect(logged.contains("\"event\":\"non-finite\"") == (rank == 0), "rank 0 has logged before the barrier")
        })
        let classifier = spikyClassifier(poisonCall: -1)
        // The other ranks' loop has no checkpoints and no log (as the trainers and `onRank` make it).
        let loop = rank == 0 ? TrainingLoop(steps: 6, checkpointPath: path, checkpointEvery: 1, log: try MetricsLog(path: logPath))
                             : TrainingLoop(steps: 6, criticCollapse: nil)
        let stop = try #require(expectNonFiniteStop {
            try loop.run(AgreeingTask(classifier, agreement: agreement), batches: RandomBatches(seed: 5))
        })
        #expect(stop.step == 3 && stop.what == other)
        #expect(calls.verdicts.count == 16 && calls.verdicts.allSatisfy { $0 == nil }, "\(calls.verdicts)")
        #expect(calls.rootValues == [rank == 0 ? path : nil] && calls.barriers == 1)
        let last = rank == 0 ? path : "rank 0's " + path
        #expect(stop.last == last, "\(stop.message)")
        #expect(stop.message.contains("the last good checkpoint is kept at \(last)"), "\(stop.message)")
        // The weights are those of two clean steps: the third step's update was not applied.
        let clean = spikyClassifier(poisonCall: -1)
        try TrainingLoop(steps: 2).run(clean, batches: RandomBatches(seed: 5))
        #expect(allValues(classifier.backbone) == allValues(clean.backbone))
    }

    @Test func overflowingBatchNormStatisticStopsAndNamesTheLayer() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/checkpoint.safetensors"
        // Step index 3 feeds activations of ±3·10¹⁹: their variance overflows float32, the
        // normalised output (and so the loss) stays finite, the running variance becomes ∞.
        let task = ScriptedTask { index, net in
            var g = RandomGenerator(seed: UInt64(index))
            let x = Tensor.randomNormal([4, 2, 3, 3], using: &g) * (index == 3 ? 3e19 : 1)
            return (net.bn(x).mean() * net.scale.value, [])
        }
        let stop = try #require(expectNonFiniteStop {
            try TrainingLoop(steps: 6, checkpointPath: path, checkpointEvery: 2).run(task, batches: RandomBatches(seed: 1))
        })
        #expect(stop.step == 4)
        #expect(stop.what.contains("BatchNorm running statistic 'net.bn.running_var' of layer 'net.bn'"), "\(stop.what)")
        #expect(stop.last == path)
        let kept = try Checkpoint(contentsOf: path)
        #expect(kept.step == 2 && kept.firstNonFiniteEntry == nil)
    }

    @Test func overflowedOptimiserStateIsNeverCheckpointed() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/checkpoint.safetensors"
        // A finite gradient of 10³⁰ at step index 2: Adam's second moment g² overflows to ∞
        // while the update m/√v stays finite, so only the optimiser state is bad.
        let task = ScriptedTask(adam: true) { index, net in
            (net.scale.value.sum() * (index == 2 ? 1e30 : 1), [])
        }
        let stop = try #require(expectNonFiniteStop {
            try TrainingLoop(steps: 4, checkpointPath: path, checkpointEvery: 1).run(task, batches: RandomBatches(seed: 1))
        })
        #expect(stop.step == 3)
        #expect(stop.what.contains("optimizer.") && stop.what.contains("exp_avg_sq"), "\(stop.what)")
        let kept = try Checkpoint(contentsOf: path)
        #expect(kept.step == 2 && kept.firstNonFiniteEntry == nil)
    }

    @Test func isAllFiniteFindsOneBadElementAnywhere() {
        for count in [1, 7, 8, 9, 33] {
            #expect(isAllFinite(Tensor.full([count], 3.4e38)))
            for position in [0, count / 2, count - 1] {
                for bad in [Float.nan, .infinity, -.infinity] {
                    var values = [Float](repeating: 1, count: count)
                    values[position] = bad
                    #expect(!isAllFinite(Tensor(values)), "\(bad) at \(position) of \(count)")
                }
            }
        }
    }

    @Test func criticCollapseDetectorCountsConsecutivePinnedSteps() {
        var d = CriticCollapseDetector(window: 3)
        #expect([0.5, 1, 1, 0.9, 1, 1, 1, 1, 1].map { d.observe($0) } == [false, false, false, false, false, false, true, false, false])
        var sides = CriticCollapseDetector(window: 2)
        // Jumping from one side to the other restarts the count; NaN is not pinned.
        #expect([1, 0, 0.01, .nan, 0, 0].map { sides.observe($0) } == [false, false, true, false, false, true])
    }

    /// Steps report a scripted `critic_accuracy`: 0.5 for the first three, then 1.0.
    func collapsingTask() -> ScriptedTask {
        ScriptedTask { index, net in (net.scale.value.sum(), [("critic_accuracy", index < 3 ? 0.5 : 1.0)]) }
    }

    @Test func criticCollapseIsLoggedAndWarnedWithoutStopping() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let log = try MetricsLog(path: folder + "/metrics.jsonl")
        let box = WarningBox()
        let loop = TrainingLoop(steps: 10, log: log, criticCollapse: CriticCollapseDetector(window: 4), warn: { box.messages.append($0) })
        let summary = try loop.run(collapsingTask(), batches: RandomBatches(seed: 1))
        #expect(box.messages.count == 1 && summary.warnings == box.messages)
        #expect(box.messages[0].hasPrefix("step 7: ADDA critic collapse: critic_accuracy 1.0"), "\(box.messages)")
        let records = try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let events = records.filter { $0["event"] as? String == "critic-collapse" }
        #expect(events.count == 1 && events[0]["step"] as? Int == 7 && events[0]["window"] as? Int == 4)
        #expect(records.filter { $0["event"] == nil }.count == 10, "training went on to the end")
    }

    /// The count of pinned steps is checkpointed: a run stopped after step 5 (two pinned steps)
    /// and resumed reports the collapse at step 7, as the uninterrupted run does.
    @Test func criticCollapseCountSurvivesAResume() throws {
        let folder = temporaryFolder(), path = folder + "/checkpoint.safetensors"
        defer { removeFolder(folder) }
        let task = collapsingTask()  // counts its own steps, so the script goes on where it stopped
        let box = WarningBox()
        try TrainingLoop(steps: 5, checkpointPath: path, criticCollapse: CriticCollapseDetector(window: 4), warn: { box.messages.append($0) })
            .run(task, batches: RandomBatches(seed: 1))
        #expect(box.messages.isEmpty)
        #expect(try Safetensors.metadata(contentsOf: URL(fileURLWithPath: path))["crossres.critic_pinned_steps"] == "2 high 4")
        let resumed = TrainingLoop(steps: 10, checkpointPath: path, criticCollapse: CriticCollapseDetector(window: 4),
                                   warn: { box.messages.append($0) })
        try resumed.run(task, batches: RandomBatches(seed: 1), startStep: try TrainingLoop.resume(task, from: path))
        #expect(box.messages.count == 1 && box.messages[0].hasPrefix("step 7: "), "\(box.messages)")
    }

    @Test func criticCollapseDetectorRestoresItsCount() {
        var d = CriticCollapseDetector(window: 3)
        _ = d.observe(0)
        #expect(d.checkpointValue == "1 low 3")
        var restored = CriticCollapseDetector(window: 3)
        restored.restore(checkpointValue: "2 low 3")
        let reached = restored.observe(0.01)
        #expect(reached && restored.checkpointValue == "3 low 3")
        restored.restore(checkpointValue: "2 high 3")
        let otherSide = restored.observe(0)
        #expect(!otherSide && restored.checkpointValue == "1 low 3", "the other side restarts the count")
        for unreadable in ["", "x", "3", "2 high", "-1 high 3", "2 sideways 3", "0", "2 high 4"] {
            restored.restore(checkpointValue: unreadable)
            #expect(restored.checkpointValue == "0", "\(unreadable): unreadable, or counted for another window")
        }
        // A stretch already reported: not again while it lasts, unless the resumed run stops on collapses.
        restored.restore(checkpointValue: "5 high 3")
        let again = (0..<10).map { _ in restored.observe(1) }
        #expect(!again.contains(true))
        var stopping = CriticCollapseDetector(window: 3, stops: true)
        stopping.restore(checkpointValue: "5 high 3")
        let stops = stopping.observe(1)
        #expect(stops, "stopping switched on at the resume: the next pinned step stops the run")
    }

    @Test func criticCollapseCanStopTheRunKeepingTheCheckpoint() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/checkpoint.safetensors"
        let loop = TrainingLoop(steps: 10, checkpointPath: path, checkpointEvery: 2,
                                criticCollapse: CriticCollapseDetector(window: 4, stops: true), warn: { _ in })
        do {
            try loop.run(collapsingTask(), batches: RandomBatches(seed: 1))
            Issue.record("expected the collapse to stop training")
        } catch let error as TrainingError {
            guard case let .criticCollapse(step, detail, last) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step == 7 && last == path && detail.contains("critic_accuracy"))
            #expect("\(error)".contains("last checkpoint is kept at \(path)"))
        }
        #expect(try Checkpoint(contentsOf: path).step == 6)
    }
}

@Suite struct ProgressClockTests {
    @Test func etaIsReadableForAnyDuration() {
        #expect(ProgressReporter.clock(0) == "0:00" && ProgressReporter.clock(-3) == "0:00")
        #expect(ProgressReporter.clock(75) == "1:15" && ProgressReporter.clock(3 * 3600 + 62) == "3:01:02")
        // A run of absurdly many steps: no negative hours from a truncated integer, no trap.
        #expect(ProgressReporter.clock(4_000_000_000 * 3600) == "> 10000 h")
        #expect(ProgressReporter.clock(35_999_999) == "9999:59:59")
        #expect(ProgressReporter.clock(.infinity) == "> 10000 h" && ProgressReporter.clock(.nan) == "?")
    }
}

@Suite struct MetricsTrimTests {
    /// On resume, records after the checkpoint's step go; records without a step stay; a
    /// half-written line (a killed run's) goes.
    @Test func resumeKeepsStepsUpToTheCheckpointAndEvents() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let run = TrainingRunFolder(folder: try RunFolder(creating: folder + "/run", overwrite: false))
        let lines = [#"{"step":1,"identity":2.5}"#, #"{"event":"critic-collapse","detail":"x"}"#, #"{"step":2,"identity":2.4}"#,
                     #"{"step":3,"identity":2.3}"#, #"{"step":4,"ide"#]
        try run.folder.write(Data(lines.joined(separator: "\n").utf8), to: TrainingRunFolder.metricsName)
        try run.trimMetrics(after: 2)
        let kept = try String(contentsOfFile: run.folder.file(TrainingRunFolder.metricsName), encoding: .utf8)
        #expect(kept == lines[0...2].joined(separator: "\n") + "\n", "\(kept)")
    }
}
