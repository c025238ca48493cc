import Foundation
import Testing
import CrossRes
@testable import Training

@Suite struct TrainingLoopTests {
    /// The same 10-step run stopped during step 6 (a NaN batch trips the guard, leaving the checkpoint
    /// of step 4, as a kill would), then resumed in a brand-new task: it ends bit-identical, with the
    /// progress-driven DANN schedule too (a first part run as a 4-step loop would have had another
    /// progress, which ADDA alone does not see).
    @Test(arguments: [false, true])
    func resumedRunEndsBitIdenticalToUninterruptedRun(dann: Bool) throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let batches = RandomBatches(seed: 11)

        let uninterrupted = makeDistillationTask(seed: 5, dann: dann)
        try TrainingLoop(steps: 10).run(uninterrupted, batches: batches)

        let path = folder + "/checkpoint.safetensors"
        var killed = batches
        killed.poisonStep = 5
        #expect(throws: TrainingError.self) {
            try TrainingLoop(steps: 10, checkpointPath: path, checkpointEvery: 4).run(makeDistillationTask(seed: 5, dann: dann), batches: killed)
        }
        let resumed = makeDistillationTask(seed: 5, dann: dann)
        let start = try TrainingLoop.resume(resumed, from: path)
        #expect(start == 4)
        try TrainingLoop(steps: 10).run(resumed, batches: batches, startStep: start)

        #expect(allValues(resumed.student) == allValues(uninterrupted.student))
        #expect(allValues(resumed.transfer!) == allValues(uninterrupted.transfer!))
        #expect(allValues(resumed.head!) == allValues(uninterrupted.head!))
    }

    /// A start past the last step (a checkpoint of a longer run) is an error, not a trap.
    @Test func startPastTheLastStepIsAnError() throws {
        let error = try #require(throws: TrainingError.self) {
            try TrainingLoop(steps: 3).run(makeDistillationTask(seed: 1), batches: RandomBatches(seed: 1), startStep: 5)
        }
        #expect("\(error)".contains("cannot start at step 5: this run has 3 steps (is its checkpoint from a longer run?)"), "\(error)")
        #expect(throws: TrainingError.self) { try TrainingLoop(steps: 3).run(makeDistillationTask(seed: 1), batches: RandomBatches(seed: 1), startStep: -1) }
    }

    /// The encoder gate needs a critic accuracy; an adversarial loss that does not report one runs
    /// without the `critic_accuracy` term (it was logged as NaN, which stopped the run) unless a gate asks for it.
    @Test func adversarialLossWithoutAccuracyRunsUngated() throws {
        let batch = try RandomBatches(seed: 1).batch(atStep: 0)
        func task(gate: Float?) -> DistillationTask {
            var g = RandomGenerator(seed: 2)
            let student = TinyEmbedder(inputs: 16, seed: 2)
            let transfer = WeightedTransferLoss([(1, SilentCritic(ADDA(embeddingDimension: 8, using: &g)))])
            return DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: nil, transfer: transfer,
                                    optimizer: Adam(parameters: DistillationTask.studentParameters(student: student, head: nil, transfer: transfer), learningRate: 1e-2),
                                    criticOptimizer: Adam(parameters: transfer.criticParameters, learningRate: 1e-3), encoderGate: gate)
        }
        let terms = try task(gate: nil).step(batch, progress: 0)
        #expect(terms.map(\.name) == ["critic", "silent"], "\(terms)")
        #expect(throws: TrainingError.self) { _ = try task(gate: 0.6).step(batch, progress: 0) }
        // ADDA reports its accuracy, and a gate above it leaves the adversarial term out.
        let gated = try makeDistillationTask(seed: 3, encoderGate: 1.01).step(batch, progress: 0)
        #expect(gated.map(\.name) == ["critic_accuracy", "critic", "identity", "l2"], "\(gated)")
    }

    /// With nothing to minimise (no head, the gate closed on the only term), the student's
    /// optimiser still counts the step: its schedule fell behind the critic's and the loop's.
    @Test func closedGateStillCountsTheStudentsStep() throws {
        var g = RandomGenerator(seed: 2)
        let student = TinyEmbedder(inputs: 16, seed: 2)
        let transfer = WeightedTransferLoss([(1, ADDA(embeddingDimension: 8, using: &g))])
        let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: nil, transfer: transfer), learningRate: 1e-2)
        let critic = Adam(parameters: transfer.criticParameters, learningRate: 1e-3)
        let task = DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: nil, transfer: transfer,
                                    optimizer: optimizer, criticOptimizer: critic, encoderGate: 1.01)
        let before = allValues(student)
        try TrainingLoop(steps: 3).run(task, batches: RandomBatches(seed: 1))
        #expect(optimizer.stepCount == 3 && critic.stepCount == 3)
        #expect(allValues(student) == before)
    }

    /// Data-parallel, the encoder gate compares the mean of the processes' accuracies (one
    /// `mean` collective per step, fed this process's accuracy), not this shard's: here a fake
    /// agreement answers a mean above or below the gate whatever the local accuracy is, and the
    /// adversarial term follows it. Without an agreement the local accuracy decides, as before.
    @Test(arguments: [(Float(1), true), (Float(0), false)])
    func encoderGateFollowsTheAgreedMeanAccuracy(mean: Float, opens: Bool) throws {
        let batch = try RandomBatches(seed: 1).batch(atStep: 0)
        let calls = AgreementCalls()
        let agreement = ProcessAgreement(rank: 1, processCount: 2, mean: { values in
            calls.means.append(values)
            return values.map { _ in mean }
        }, firstFailure: { $0 }, rootValue: { $0 }, barrier: {})
        let terms = try ProcessAgreement.$current.withValue(agreement) {
            try makeDistillationTask(seed: 3, encoderGate: 0.5).step(batch, progress: 0)
        }
        let local = try #require(terms.first { $0.name == "critic_accuracy" }?.value)
        #expect(calls.means == [[local]], "one mean per step, of this process's accuracy")
        #expect(terms.contains { $0.name == "adda" } == opens, "\(terms)")
        // One process: its own accuracy decides (a gate just above or below it).
        for (gate, open) in [(local + 0.01, false), (local, true)] {
            let alone = try makeDistillationTask(seed: 3, encoderGate: gate).step(batch, progress: 0)
            #expect(alone.contains { $0.name == "adda" } == open, "gate \(gate): \(alone)")
        }
    }

    /// `ProcessAgreement.together` makes one process's failure every process's (a fake agreement
    /// answers the first failure): a process whose `body` passed throws `stoppedTogether` with the
    /// other's error and rank, the failing one rethrows its own error (its verdict, quoted, is what
    /// it told the others), and a `body` that passes everywhere returns its value; without an
    /// agreement (one process) `body` runs alone.
    @Test func oneProcessesFailureStopsEveryProcess() throws {
        let calls = AgreementCalls()
        func agreement(otherFailure: String?) -> ProcessAgreement {
            ProcessAgreement(rank: 1, processCount: 2, mean: { $0 }, firstFailure: { local in
                calls.verdicts.append(local)
                return otherFailure ?? local
            }, rootValue: { $0 }, barrier: {})
        }
        #expect(try ProcessAgreement.together(agreement(otherFailure: nil)) { 7 } == 7)
        let other = "\"run folder run already exists; …\" on rank 0"
        let stopped = try #require(throws: TrainingError.self) { try ProcessAgreement.together(agreement(otherFailure: other)) { 7 } }
        #expect("\(stopped)" == "stopped because another process failed: \(other)")
        let own = try #require(throws: TrainingError.self) {
            try ProcessAgreement.together(agreement(otherFailure: nil)) { throw TrainingError.runFolderExists("mine") }
        }
        guard case .runFolderExists("mine") = own else { Issue.record("\(own)"); return }
        #expect(calls.verdicts == [nil, nil, "\"\(own)\""], "\(calls.verdicts)")
        #expect(try ProcessAgreement.together(nil) { 7 } == 7)
    }

    /// Any single `TransferLoss` is accepted (it was `WeightedTransferLoss` only) as its one term.
    @Test func aSingleTransferLossIsItsOnlyTerm() throws {
        var g = RandomGenerator(seed: 6)
        let student = TinyEmbedder(inputs: 16, seed: 2)
        let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
        let task = DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: head, transfer: FeatureL2Transfer(),
                                    optimizer: Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: FeatureL2Transfer())))
        let terms = try task.step(try RandomBatches(seed: 1).batch(atStep: 0), progress: 0)
        #expect(terms.map(\.name) == ["identity", "l2"], "\(terms)")
    }

    /// An optimiser without the head's parameters trained them as constants, silently.
    @Test func anOptimizerMissingTheHeadIsRefused() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var g = RandomGenerator(seed: 6)
            let student = TinyEmbedder(inputs: 16, seed: 2)
            let head = MarginHead.cosFace(classes: 3, embeddingDimension: 8, scale: 8, using: &g)
            _ = DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: head, transfer: FeatureL2Transfer(),
                                 optimizer: Adam(parameters: student.parameters()))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("the student optimizer lacks 1 trainable parameters (shapes [[3, 8]])"), "\(stderr)")
    }

    /// A loader whose images are not what the networks take (an LR view without `up=`, another
    /// size) stopped the program in the forward pass; it is an error before any update.
    @Test func imagesTheNetworksDoNotTakeAreAnError() throws {
        var g = RandomGenerator(seed: 3)
        let teacher = SmallFaceNet(embeddingSize: 8, widths: [4, 4, 4, 4], inputSize: 16, using: &g)
        let student = SmallFaceNet(embeddingSize: 8, widths: [4, 4, 4, 4], inputSize: 16, using: &g)
        let task = DistillationTask(teacher: teacher, student: student, head: nil, transfer: FeatureL2Transfer(),
                                    optimizer: Adam(parameters: student.parameters()))
        let hr = Tensor.zeros([2, 3, 16, 16]), before = allValues(student)
        let lr = try #require(throws: TrainingError.self) {
            try task.step(TrainingBatch(highResolution: hr, lowResolution: Tensor.zeros([2, 3, 8, 8]), labels: [0, 1], indices: [0, 1]), progress: 0)
        }
        #expect("\(lr)".contains("the student on the LR views: SmallFaceNet: input must be [N, 3, 16, 16], got [2, 3, 8, 8]"), "\(lr)")
        let grey = try #require(throws: TrainingError.self) {
            try task.step(TrainingBatch(highResolution: Tensor.zeros([2, 1, 16, 16]), lowResolution: hr, labels: [0, 1], indices: [0, 1]), progress: 0)
        }
        #expect("\(grey)".contains("the teacher on the HR images: SmallFaceNet: input must be [N, 3, 16, 16], got [2, 1, 16, 16]"), "\(grey)")
        #expect(allValues(student) == before)
        let classifier = ClassifierTask(backbone: student, head: MarginHead.cosFace(classes: 2, embeddingDimension: 8, using: &g),
                                        optimizer: Adam(parameters: student.parameters()))
        let backbone = try #require(throws: TrainingError.self) {
            try classifier.step(TrainingBatch(highResolution: Tensor.zeros([2, 3, 32, 32]), lowResolution: hr, labels: [0, 1], indices: [0, 1]), progress: 0)
        }
        #expect("\(backbone)".contains("the backbone on the HR images: SmallFaceNet: input must be [N, 3, 16, 16], got [2, 3, 32, 32]"), "\(backbone)")
        #expect(allValues(student) == before)
    }

    /// One network as teacher and student was frozen as the teacher: the run trained nothing.
    @Test func oneNetworkAsTeacherAndStudentIsRefused() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let network = TinyEmbedder(inputs: 16, seed: 1)
            _ = DistillationTask(teacher: network, student: network, head: nil, transfer: FeatureL2Transfer(), optimizer: Adam(parameters: network.parameters()))
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("the teacher and the student are one network"), "\(stderr)")
    }

    /// A transfer term returning a vector stopped in `Tensor.item`, naming neither the term nor the task.
    @Test func aTermThatIsNotAScalarIsNamed() async {
        final class PerSample: TransferLoss {
            let name = "persample"
            func callAsFunction(_ context: TransferContext) -> Tensor {
                (context.student.embedding - context.requireTeacher(for: name).embedding).square().sum(alongAxis: 1)
            }
        }
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let student = TinyEmbedder(inputs: 16, seed: 2)
            let task = DistillationTask(teacher: TinyEmbedder(inputs: 16, seed: 1), student: student, head: nil, transfer: PerSample(),
                                        optimizer: Adam(parameters: student.parameters()))
            _ = try? task.step(try! RandomBatches(seed: 1).batch(atStep: 0), progress: 0)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("term 'persample' returned shape [6], not a scalar"), "\(stderr)")
    }

    /// A teacher cache built over fewer samples than the batches index stopped in `indexSelect`.
    @Test func aCacheOfAnotherDataSetIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let cache = TeacherFeatureCache(embeddings: Tensor.zeros([4, 8]))
            _ = cache.features([1, 4])
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("TeacherFeatureCache: sample index 4 outside the 4 samples it was built over"), "\(stderr)")
    }

    /// `evaluate` runs at the end even without `evaluateEvery`.
    @Test func finalEvaluationRunsWithoutAnInterval() throws {
        var evaluated: [Int] = []
        try TrainingLoop(steps: 3, evaluate: { step in evaluated.append(step); return ["accuracy": 1] })
            .run(makeDistillationTask(seed: 4), batches: RandomBatches(seed: 3))
        #expect(evaluated == [3])
    }

    @Test func criticStepLeavesStudentAndEncoderStepLeavesCritic() throws {
        let task = makeDistillationTask(seed: 3)
        let batch = try RandomBatches(seed: 1).batch(atStep: 0)
        let teacherBefore = allValues(task.teacher)
        let criticBefore = task.transfer!.criticParameters.map(\.value.scalars)
        let terms = try task.step(batch, progress: 0)
        #expect(Set(terms.map(\.name)) == ["critic_accuracy", "critic", "identity", "l2", "adda"])
        #expect(allValues(task.teacher) == teacherBefore, "the frozen teacher must not change")
        // The critic moved by its own optimiser only: one Adam step of lr 1e-3 changes each
        // weight by at most ~1e-3.
        let criticAfter = task.transfer!.criticParameters.map(\.value.scalars)
        #expect(criticAfter != criticBefore)
        let largestChange = zip(criticAfter, criticBefore).flatMap { zip($0, $1).map { abs($0 - $1) } }.max()!
        #expect(largestChange <= 1.01e-3)
    }

    @Test func nonFiniteLossStopsBeforeUpdatingAndNamesTheStep() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/checkpoint.safetensors"
        let task = makeDistillationTask(seed: 9)
        var poisoned = RandomBatches(seed: 2)
        poisoned.poisonStep = 3
        let loop = TrainingLoop(steps: 6, checkpointPath: path, checkpointEvery: 2)
        do {
            try loop.run(task, batches: poisoned)
            Issue.record("expected the NaN guard to stop training")
        } catch let error as TrainingError {
            guard case let .nonFinite(step, what, last) = error else { Issue.record("wrong error \(error)"); return }
            #expect(step == 4)
            #expect(what.contains("identity") || what.contains("l2") || what.contains("critic"))
            #expect(last == path)
            #expect("\(error)".contains("last good checkpoint"))
            // The kept checkpoint is the one written after step 2 and still loads.
            #expect(try Checkpoint(contentsOf: path).step == 2)
        }
    }

    @Test func checkpointRestoreIsStrictAndNamesKeys() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/c.safetensors"
        let task = makeDistillationTask(seed: 1)
        var checkpoint = Checkpoint(capturing: task, step: 3)
        checkpoint.tensors.removeValue(forKey: "student.fc1.weight")
        checkpoint.tensors["student.fc9.weight"] = Tensor([1])
        try checkpoint.write(to: path)
        let target = makeDistillationTask(seed: 1)
        let untouched = allValues(target.student)
        do {
            _ = try TrainingLoop.resume(target, from: path)
            Issue.record("expected a strict-loading error")
        } catch {
            let message = "\(error)"
            #expect(message.contains(path) && message.contains("[student]"))
            #expect(message.contains("missing keys: fc1.weight"))
            #expect(message.contains("unexpected keys: fc9.weight"))
        }
        #expect(allValues(target.student) == untouched, "a failed restore leaves the task as it was")

        var misshaped = Checkpoint(capturing: task, step: 3)
        misshaped.tensors["head.weight"] = Tensor.zeros([2, 2])
        try misshaped.write(to: path)
        #expect(throws: TrainingError.self) { try TrainingLoop.resume(makeDistillationTask(seed: 1), from: path) }
        _ = FileManager.default.createFile(atPath: folder + "/junk.safetensors", contents: Data("not a checkpoint".utf8))
        #expect(throws: TrainingError.self) { try Checkpoint(contentsOf: folder + "/junk.safetensors") }
    }

    @Test func metricsLogHasOneRecordPerStep() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let log = try MetricsLog(path: folder + "/metrics.jsonl")
        try TrainingLoop(steps: 3, log: log).run(makeDistillationTask(seed: 4), batches: RandomBatches(seed: 3))
        let lines = try String(contentsOfFile: folder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        let last = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as! [String: Any]
        #expect(last["step"] as? Int == 3)
        #expect(last["identity"] is Double && last["l2"] is Double)
    }

    @Test func runFolderIsNeverOverwrittenWithoutForce() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder(creating: folder, overwrite: false).write(Data("old".utf8), to: "report.md")
        #expect(throws: TrainingError.self) { try RunFolder(creating: folder, overwrite: false) }
        #expect(FileManager.default.fileExists(atPath: folder + "/report.md"))
        // With overwrite, a folder RunFolder created (it holds the marker) is replaced, and the
        // earlier one, moved aside while its successor was created, is gone.
        _ = try RunFolder(creating: folder, overwrite: true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/report.md"))
        #expect(FileManager.default.fileExists(atPath: folder + "/" + RunFolder.markerName))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
    }

    /// `--force` keeps the earlier output aside until the run that replaces it has returned: then
    /// it is removed; a run that fails before writing anything puts it back; one that wrote
    /// something keeps both, and the warning says where the earlier one is.
    @Test func forceKeepsTheEarlierOutputUntilTheRunEnds() throws {
        struct Failed: Error {}
        let manager = FileManager.default
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        func earlier() throws { try RunFolder(creating: folder, overwrite: true).write(Data("old".utf8), to: "report.md") }
        func asides() throws -> [String] { try manager.contentsOfDirectory(atPath: scratch).filter { $0 != "run" } }
        var warnings: [String] = []
        try earlier()
        let value = try RunFolder.replacing(folder, overwrite: true, warn: { warnings.append($0) }) {
            #expect(!manager.fileExists(atPath: folder))
            #expect(try asides().map { manager.fileExists(atPath: scratch + "/" + $0 + "/report.md") } == [true])
            try RunFolder(creating: folder, overwrite: true).write(Data("new".utf8), to: "report.md")
            return 7
        }
        let leftAside = try asides()
        #expect(value == 7 && warnings.isEmpty && leftAside.isEmpty)
        #expect(manager.contents(atPath: folder + "/report.md") == Data("new".utf8))

        try earlier()
        #expect(throws: Failed.self) {
            try RunFolder.replacing(folder, overwrite: true, warn: { warnings.append($0) }) { _ = try RunFolder(creating: folder, overwrite: true); throw Failed() }
        }
        let putBack = try asides()
        #expect(warnings.isEmpty && putBack.isEmpty, "nothing written: the earlier output is back")
        #expect(manager.contents(atPath: folder + "/report.md") == Data("old".utf8))

        #expect(throws: Failed.self) {
            try RunFolder.replacing(folder, overwrite: true, warn: { warnings.append($0) }) {
                try RunFolder(creating: folder, overwrite: true).write(Data("partial".utf8), to: "metrics.jsonl")
                throw Failed()
            }
        }
        let kept = try #require(try asides().first)
        #expect(warnings == ["the run replacing \(folder) failed, and what is there now is kept; the earlier output is kept at \(scratch)/\(kept)"])
        #expect(manager.contents(atPath: scratch + "/" + kept + "/report.md") == Data("old".utf8))
        #expect(manager.fileExists(atPath: folder + "/metrics.jsonl"))
    }

    /// An earlier output that cannot be removed once its successor is complete is a warning
    /// naming where it is, not a failed run.
    @Test func anEarlierOutputThatCannotBeRemovedIsAWarning() throws {
        struct Stuck: Error {}
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        var warnings: [String] = []
        let replacement = try #require(try RunFolder.setAside(folder, overwrite: true))
        let created = try RunFolder(creating: folder, overwrite: false)
        replacement.finish(warn: { warnings.append($0) }, remove: { _ in throw Stuck() })
        let aside = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch).first { $0 != "run" })
        #expect(created.path == folder && FileManager.default.fileExists(atPath: created.file(RunFolder.markerName)))
        #expect(warnings.count == 1 && warnings[0].hasPrefix("replaced \(folder), but could not remove the earlier output, moved to \(scratch)/\(aside)"), "\(warnings)")
    }

    @Test func forceNeverReplacesTheUsersFolders() throws {
        let manager = FileManager.default
        // A folder of the user's (no marker): refused even with overwrite, and left as it was.
        let mine = temporaryFolder()
        defer { removeFolder(mine) }
        _ = manager.createFile(atPath: mine + "/keep.txt", contents: Data("mine".utf8))
        let refusal = try #require(throws: TrainingError.self) { try RunFolder(creating: mine, overwrite: true) }
        #expect("\(refusal)".contains("not a CrossRes output") && "\(refusal)".contains(RunFolder.markerName), "\(refusal)")
        #expect(manager.fileExists(atPath: mine + "/keep.txt"))
        // An empty folder has nothing to lose.
        let empty = temporaryFolder()
        defer { removeFolder(empty) }
        _ = try RunFolder(creating: empty, overwrite: true)
        // An output folder holding one of the run's inputs (the teacher run, the data) is kept, named in the error.
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let earlier = scratch + "/teacher"
        _ = try RunFolder(creating: earlier, overwrite: false)
        for input in [earlier, earlier + "/" + RunFolder.markerName, earlier + "/../teacher"] {
            let error = try #require(throws: TrainingError.self) { try RunFolder(creating: earlier, overwrite: true, keeping: [input]) }
            let expected = input.hasSuffix(RunFolder.markerName) ? "holds the input \(input)" : "is the input \(input)"
            #expect("\(error)".contains(expected), "\(error)")
            #expect(throws: TrainingError.self) { try RunFolder.checkCreatable(earlier, overwrite: true, keeping: [input]) }
        }
        #expect(manager.fileExists(atPath: earlier + "/" + RunFolder.markerName))
        // Data named through a link inside the output (its target outside): replacing the output
        // would remove the path the run reads.
        try manager.createDirectory(atPath: scratch + "/faces", withIntermediateDirectories: false)
        try manager.createSymbolicLink(atPath: earlier + "/datalink", withDestinationPath: scratch + "/faces")
        let through = try #require(throws: TrainingError.self) { try RunFolder.checkCreatable(earlier, overwrite: true, keeping: [earlier + "/datalink"]) }
        #expect("\(through)".contains("holds the input \(earlier)/datalink"), "\(through)")
        // A file is never replaced by a folder.
        let file = scratch + "/weights"
        _ = manager.createFile(atPath: file, contents: Data())
        #expect(throws: TrainingError.self) { try RunFolder(creating: file, overwrite: true) }
    }

    /// An output inside an input folder (an image folder, a teacher's run) would become part of
    /// what the next run reads: refused, for new and existing outputs, through `..` and links.
    @Test func outputsInsideAnInputFolderAreRefused() throws {
        let manager = FileManager.default, scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        try manager.createDirectory(atPath: scratch + "/faces/a", withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: scratch + "/link", withDestinationPath: scratch + "/faces")
        // `deeplink/..` is faces/a (the parent of the link's target), not the scratch folder.
        try manager.createDirectory(atPath: scratch + "/faces/a/deep", withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: scratch + "/deeplink", withDestinationPath: "faces/a/deep")
        for output in ["faces/run", "faces/a/sheet.png", "other/../faces/a/b/run", "link/a/run", "faces", "deeplink/../run", "deeplink/../../b/run"] {
            for (force, inputs) in [(false, ["faces"]), (true, ["link/"])] {
                let error = try #require(throws: TrainingError.self) {
                    try RunFolder.checkCreatable(scratch + "/" + output, overwrite: force, keeping: RunInputs(data: inputs.map { scratch + "/" + $0 }))
                }
                #expect("\(error)".contains(output == "faces" ? "is the input" : "is inside the input folder"), "\(output): \(error)")
            }
        }
        #expect(!manager.fileExists(atPath: scratch + "/faces/run") && !manager.fileExists(atPath: scratch + "/faces/a/b"))
        // Beside the input, and inside a file input's folder, are fine.
        try RunFolder.checkOutside(scratch + "/faces-run", inputs: [scratch + "/faces"])
        _ = manager.createFile(atPath: scratch + "/faces.rec", contents: Data())
        try RunFolder.checkOutside(scratch + "/run", inputs: [scratch + "/faces.rec", "synthetic:identities=4"])
        #expect(throws: TrainingError.self) { try RunFolder.checkOutside(scratch + "/./faces.rec", inputs: [scratch + "/faces.rec"]) }
    }

    /// A run folder read as weights is read by name (`backbone.safetensors`), not scanned: an
    /// output inside it (`evaluate --weights runs/student --output runs/student/eval`, a student
    /// under its teacher) is allowed; being it is not, and the same folder given as data is refused.
    @Test func outputsInsideAModelInputAreAllowed() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let student = scratch + "/student", teacher = scratch + "/teacher", faces = scratch + "/faces"
        for folder in [student, teacher] { _ = try RunFolder(creating: folder, overwrite: false) }
        try FileManager.default.createDirectory(atPath: faces + "/a", withIntermediateDirectories: true)
        let inputs = RunInputs(data: [faces], models: [student, teacher + "/"])
        for output in [student + "/eval", teacher + "/students/l2", student + "/../teacher/x"] {
            #expect(try RunFolder.checkCreatable(output, overwrite: true, keeping: inputs) == false, "\(output)")
        }
        let same = try #require(throws: TrainingError.self) { try RunFolder.checkOutside(student + "/.", inputs: inputs) }
        #expect("\(same)".contains("is the input \(student)"), "\(same)")
        let inData = try #require(throws: TrainingError.self) { try RunFolder.checkOutside(faces + "/a/eval", inputs: inputs) }
        #expect("\(inData)".contains("is inside the input folder \(faces)"), "\(inData)")
        // A plain list is data: the strict rule for inputs whose kind is not said.
        #expect(throws: TrainingError.self) { try RunFolder.checkCreatable(student + "/eval", overwrite: false, keeping: [student]) }
        // The configurations say which of their paths are weights.
        let evaluation = try EvaluationConfiguration.layered([ConfigurationLayer(source: "test", values: ["weights": student, "teacher-weights": teacher, "data": faces])])
        #expect(evaluation.inputs == RunInputs(data: [faces], models: [student, teacher]))
        var distillation = DistillationConfiguration()
        distillation.teacher = teacher
        distillation.training.data = faces
        #expect(distillation.inputs == RunInputs(data: [faces], models: [teacher]))
        #expect(TrainingConfiguration().inputs.models.isEmpty)
    }

    /// `--force` over a folder holding another CrossRes output below it (at any depth, below
    /// folders without a marker too) would delete that result: refused, naming it, and nothing
    /// moves. A link to an output is not followed (replacing removes the link only), and the
    /// search lists a bounded number of entries.
    @Test func forceRefusesToReplaceAFolderHoldingAnotherOutput() throws {
        let manager = FileManager.default, scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let student = scratch + "/student", teacher = scratch + "/teacher"
        for folder in [student, student + "/eval", teacher, teacher + "/students/l2"] {
            try RunFolder(creating: folder, overwrite: false).write(Data("kept".utf8), to: "report.md")
        }
        for (folder, nested) in [(student, student + "/eval"), (teacher, teacher + "/students/l2")] {
            let error = try #require(throws: TrainingError.self) { try RunFolder(creating: folder, overwrite: true) }
            #expect("\(error)".contains("\(folder) holds the CrossRes output \(nested)") && "\(error)".contains("move or remove it first"), "\(error)")
            #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
            #expect(try String(contentsOfFile: nested + "/report.md", encoding: .utf8) == "kept")
            #expect(manager.fileExists(atPath: folder + "/report.md"))
        }
        #expect(try manager.contentsOfDirectory(atPath: scratch).sorted() == ["student", "teacher"])
        // The nested output itself may be replaced (only the levels below a folder count, not its own marker).
        _ = try RunFolder(creating: student + "/eval", overwrite: true)
        // Marker-less sub-folders and a link to another output do not stop a replacement.
        let linked = scratch + "/linked"
        _ = try RunFolder(creating: linked, overwrite: false)
        try manager.createDirectory(atPath: linked + "/logs/a", withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: linked + "/teacher", withDestinationPath: teacher)
        _ = try RunFolder(creating: linked, overwrite: true)
        #expect(manager.fileExists(atPath: teacher + "/report.md"))
        // The bound: more entries than the limit is an error, not a long walk.
        for name in ["a", "b", "c"] { _ = manager.createFile(atPath: linked + "/" + name, contents: Data()) }
        #expect(try RunFolder.nestedOutput(in: linked, limit: 4) == nil)
        let bound = try #require(throws: TrainingError.self) { try RunFolder.nestedOutput(in: linked, limit: 3) }
        #expect("\(bound)".contains("\(linked) holds more than 3 files and folders"), "\(bound)")
        // An earlier output set aside by an interrupted --force run (a hidden sibling) is named as such.
        let aside = student + "/.eval.replaced-0"
        try manager.moveItem(atPath: student + "/eval", toPath: aside)
        let hidden = try #require(throws: TrainingError.self) { try RunFolder.checkCreatable(student, overwrite: true) }
        #expect("\(hidden)".contains("\(student) holds \(aside), an earlier output that an interrupted --force run set aside"), "\(hidden)")
    }

    @Test func unwritableOutputIsNamedInWords() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let file = scratch + "/file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let error = try #require(throws: TrainingError.self) { try RunFolder(creating: file + "/run", overwrite: false) }
        #expect("\(error)" == "invalid configuration: cannot create output folder \(file)/run: Not a directory", "\(error)")
    }
}

/// What a fake ``ProcessAgreement`` was asked (the tests run on one thread).
final class AgreementCalls: @unchecked Sendable {
    var means: [[Float]] = []
    var verdicts: [String?] = []
    var rootValues: [String?] = []
    var barriers = 0
}
