import Foundation
import Testing
import CrossRes

/// Run folders of the command-line trainers: kill-and-resume, and a tiny teacher → student →
/// evaluation pipeline through the library types the `crossres` commands call.
@Suite struct TrainingRunTests {
    struct Killed: Error {}

    /// Batches that stop the run at `killAt`, as a killed process would.
    struct KilledBatches: BatchProvider {
        let base: any BatchProvider
        let killAt: Int
        var batchesPerEpoch: Int { base.batchesPerEpoch }
        func batch(atStep step: Int) throws -> TrainingBatch {
            if step == killAt { throw Killed() }
            return try base.batch(atStep: step)
        }
    }

    /// One process whose run is killed at step `killAt`, after its folder holds a checkpoint.
    struct KilledProcess: DataParallelism {
        let killAt: Int
        var isRoot: Bool { true }
        var processCount: Int { 1 }
        var processAgreement: ProcessAgreement { ProcessAgreement(rank: 0, processCount: 1, mean: { $0 }, firstFailure: { $0 }, rootValue: { $0 }, barrier: {}) }
        func distribute(_ optimizer: any Optimizer) throws -> any Optimizer { optimizer }
        func distribute(_ task: any TrainingTask) -> any TrainingTask { task }
        func shard(_ batches: any BatchProvider) throws -> any BatchProvider { KilledBatches(base: batches, killAt: killAt) }
        func synchronise(_ task: any TrainingTask, step: Int) throws -> Int { step }
        func ensureSame(_ invariants: [RankInvariant], of subject: String, fix: String) throws {}
        func synchroniseBatchNorm(in model: any Module) -> Int { 0 }
    }

    final class Warnings { var lines: [String] = [] }

    /// A tiny teacher's settings: 16-pixel input, 8-wide embeddings, batches of 8.
    func tinyTeacher(data: String, steps: Int, checkpointEvery: Int) -> TrainingConfiguration {
        var settings = TrainingConfiguration()
        settings.data = data
        settings.embeddingSize = 8
        settings.inputSize = 16
        settings.steps = steps
        settings.batch = 8
        settings.checkpointEvery = checkpointEvery
        return settings
    }

    func metricSteps(_ run: TrainingRunFolder) throws -> [Int] {
        let text = try String(contentsOfFile: run.folder.file(TrainingRunFolder.metricsName), encoding: .utf8)
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["step"] as? Int }
    }

    @Test func killedRunResumesBitIdenticallyAndLogsEachStepOnce() throws {
        var settings = TrainingConfiguration()
        settings.data = "synthetic"
        let batches = RandomBatches(seed: 4)

        let straight = makeDistillationTask(seed: 8)
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let a = try TrainingRunFolder.create(scratch + "/a", configuration: settings, overwrite: false)
        let full = try a.train(straight, batches: batches, steps: 8, startStep: 0, checkpointEvery: 3, label: "a")
        // Killed after its last checkpoint (before result.json): the resume runs no step, and
        // reports the last step's terms from the log.
        let nothingLeft = try a.train(straight, batches: batches, steps: 8, startStep: 8, checkpointEvery: 3, label: "a")
        #expect(!full.lastTerms.isEmpty)
        #expect(nothingLeft.lastTerms.map(\.name) == full.lastTerms.map(\.name).sorted())
        #expect(nothingLeft.lastTerms.map(\.value) == full.lastTerms.sorted { $0.name < $1.name }.map(\.value))

        let path = scratch + "/b"
        do {  // (the killed run's folder, its lock released at the end of the block as at a process's end)
            let b = try TrainingRunFolder.create(path, configuration: settings, overwrite: false)
            #expect(throws: Killed.self) {
                try b.train(makeDistillationTask(seed: 8), batches: KilledBatches(base: batches, killAt: 5), steps: 8, startStep: 0,
                            checkpointEvery: 3, label: "b")
            }
            #expect(try metricSteps(b) == [1, 2, 3, 4, 5])
            #expect(throws: TrainingError.self, "a folder being written is not resumed") { try TrainingRunFolder.reopen(path, configuration: settings) }
        }
        let resumed = makeDistillationTask(seed: 8)
        let reopened = try TrainingRunFolder.reopen(path, configuration: settings)
        let start = try reopened.restore(resumed)
        #expect(start == 3)
        #expect(try metricSteps(reopened) == [1, 2, 3])
        try reopened.train(resumed, batches: batches, steps: 8, startStep: start, checkpointEvery: 3, label: "b")

        #expect(try metricSteps(reopened) == Array(1...8))
        #expect(allValues(resumed.student) == allValues(straight.student))
        #expect(allValues(resumed.head!) == allValues(straight.head!))
        #expect(allValues(resumed.transfer!) == allValues(straight.transfer!))

        // Killed before its first checkpoint: the resume starts again at step 0 and logs each step once.
        let early = scratch + "/c"
        do {
            let c = try TrainingRunFolder.create(early, configuration: settings, overwrite: false)
            #expect(throws: Killed.self) {
                try c.train(makeDistillationTask(seed: 8), batches: KilledBatches(base: batches, killAt: 2), steps: 8, startStep: 0,
                            checkpointEvery: 5, label: "c")
            }
            #expect(try metricSteps(c) == [1, 2])
        }
        let again = try TrainingRunFolder.reopen(early, configuration: settings)
        let restarted = makeDistillationTask(seed: 8)
        #expect(try again.restore(restarted) == 0)
        try again.train(restarted, batches: batches, steps: 8, startStep: 0, checkpointEvery: 5, label: "c")
        #expect(try metricSteps(again) == Array(1...8))
        #expect(allValues(restarted.student) == allValues(straight.student))
    }

    @Test func teacherStudentAndEvaluationRunsWriteTheirFolders() throws {
        let root = temporaryFolder()
        defer { removeFolder(root) }
        let data = "synthetic:identities=20,images=4,size=16,seed=3"
        let teacherSettings = tinyTeacher(data: data, steps: 3, checkpointEvery: 2)
        var teacher = try TeacherTraining(configuration: teacherSettings)
        teacher.say = { _ in }
        let teacherResult = try teacher.run(output: root + "/teacher")
        #expect(teacherResult.backbone == BackboneConfiguration(name: "smallfacenet", embeddingSize: 8, inputSize: 16))
        #expect(teacherResult.identities == 20)
        for name in [TrainingRunFolder.settingsName, TrainingRunFolder.checkpointName, TrainingRunFolder.metricsName,
                     TrainingRunFolder.resultName, ModelFactory.backboneFileName] {
            #expect(FileManager.default.fileExists(atPath: root + "/teacher/" + name), "\(name)")
        }
        #expect(try TrainingConfiguration(contentsOf: root + "/teacher/settings.json") == teacherSettings)
        #expect(throws: TrainingError.self) { try teacher.run(output: root + "/teacher") }

        var studentSettings = DistillationConfiguration()
        studentSettings.training = teacherSettings
        studentSettings.teacher = root + "/teacher"
        studentSettings.transfer = "l2=5,adda"
        studentSettings.degrade = "size=8,interp=bicubic,up=16"
        var student = try DistillationTraining(configuration: studentSettings)
        student.say = { _ in }
        let studentResult = try student.run(output: root + "/student")
        #expect(studentResult.teacher == teacherResult.backbone)
        #expect(Set(studentResult.finalTerms.keys).isSuperset(of: ["identity", "l2", "adda", "critic"]))
        let checkpoint = try Checkpoint(contentsOf: root + "/student/" + TrainingRunFolder.checkpointName)
        #expect(checkpoint.step == 3)
        #expect(checkpoint.tensors.keys.contains { $0.hasPrefix("critic_optimizer.") })

        var wrongSize = studentSettings
        wrongSize.degrade = "size=8"
        #expect(throws: TrainingError.self) { try DistillationTraining(configuration: wrongSize).run(output: root + "/bad") }
        #expect(!FileManager.default.fileExists(atPath: root + "/bad"), "a run that cannot start leaves no folder")

        var cached = studentSettings
        cached.transfer = "nst=50"
        cached.training.flip = false
        cached.cacheTeacher = true
        var cachedRun = try DistillationTraining(configuration: cached)
        cachedRun.say = { _ in }
        #expect(try cachedRun.run(output: root + "/cached").finalTerms["nst"]?.isFinite == true)
        cached.transfer = "nst=50:map=stage9"
        do {
            try DistillationTraining(configuration: cached).run(output: root + "/bad")
            Issue.record("a feature map the networks lack must be an error")
        } catch {
            #expect("\(error)".contains("'stage9', which it does not have (it has stage0, stage1, stage2, stage3)"))
        }
        cached.training.flip = true
        #expect(throws: TrainingError.self) { try DistillationTraining(configuration: cached) }

        var evaluationSettings = EvaluationConfiguration()
        evaluationSettings.weights = root + "/student"
        evaluationSettings.teacherWeights = root + "/teacher"
        evaluationSettings.data = "synthetic:identities=20,images=4,size=16,seed=11"
        var evaluation = try CrossResolutionEvaluation(configuration: evaluationSettings)
        evaluation.say = { _ in }
        let report = try evaluation.run(output: root + "/evaluation")
        // No sizes given: the default ones below the 16-pixel input (16 itself is the native row).
        #expect([8, 12].allSatisfy { report.verification?.entry(.crossModel, .pixels($0)) != nil })
        #expect(report.verification?.entry(.crossModel, .pixels(16)) == nil && report.verification?.entry(.crossModel, .native) != nil)
        #expect(report.identification?.entry(.lrVsLr, .native) != nil)
        for name in ["report.md", "report.json", "verification.svg", "identification.svg"] {
            #expect(FileManager.default.fileExists(atPath: root + "/evaluation/" + name), "\(name)")
        }
    }

    /// `train-teacher --force` over an earlier teacher: a run that fails part-way keeps the earlier
    /// one (aside, named in a warning) and its own folder; one that succeeds removes the earlier.
    @Test func aForcedRunKeepsTheTeacherItReplacesUntilItSucceeds() throws {
        let manager = FileManager.default
        let root = temporaryFolder()
        defer { removeFolder(root) }
        var teacher = try TeacherTraining(configuration: tinyTeacher(data: "synthetic:identities=4,images=4,size=16", steps: 3, checkpointEvery: 1))
        teacher.say = { _ in }
        let path = root + "/teacher"
        try teacher.run(output: path)
        let earlier = try #require(manager.contents(atPath: path + "/" + TrainingRunFolder.resultName))

        let warnings = Warnings()
        teacher.warn = { warnings.lines.append($0) }
        teacher.parallelism = KilledProcess(killAt: 2)
        #expect(throws: Killed.self) { try teacher.run(output: path, overwrite: true) }
        let aside = try #require(try manager.contentsOfDirectory(atPath: root).first { $0 != "teacher" }, "the earlier teacher is kept")
        #expect(manager.contents(atPath: root + "/" + aside + "/" + TrainingRunFolder.resultName) == earlier)
        #expect(warnings.lines == ["the run replacing \(path) failed, and what is there now is kept; the earlier output is kept at \(root)/\(aside)"])
        #expect(try Checkpoint(contentsOf: path + "/" + TrainingRunFolder.checkpointName).step == 2, "the failed run's checkpoint is kept")
        #expect(!manager.fileExists(atPath: path + "/" + TrainingRunFolder.resultName))

        try manager.removeItem(atPath: root + "/" + aside)
        teacher.parallelism = nil
        try teacher.run(output: path, overwrite: true)
        #expect(try manager.contentsOfDirectory(atPath: root) == ["teacher"] && warnings.lines.count == 1)
        #expect(manager.fileExists(atPath: path + "/" + TrainingRunFolder.resultName))
    }

    /// `distill --force` over an earlier student, as `train-teacher --force` above: a failed
    /// replacement keeps the earlier student aside (named in a warning), a successful one removes it.
    @Test func aForcedDistillationKeepsTheStudentItReplacesUntilItSucceeds() throws {
        let manager = FileManager.default
        let root = temporaryFolder()
        defer { removeFolder(root) }
        var teacher = try TeacherTraining(configuration: tinyTeacher(data: "synthetic:identities=4,images=4,size=16", steps: 2, checkpointEvery: 1))
        teacher.say = { _ in }
        try teacher.run(output: root + "/teacher")
        var settings = DistillationConfiguration()
        settings.training = tinyTeacher(data: "synthetic:identities=4,images=4,size=16", steps: 3, checkpointEvery: 1)
        settings.teacher = root + "/teacher"
        settings.degrade = "size=8,interp=bicubic,up=16"
        var student = try DistillationTraining(configuration: settings)
        student.say = { _ in }
        let path = root + "/student"
        try student.run(output: path)
        let earlier = try #require(manager.contents(atPath: path + "/" + TrainingRunFolder.resultName))

        let warnings = Warnings()
        student.warn = { warnings.lines.append($0) }
        student.parallelism = KilledProcess(killAt: 2)
        #expect(throws: Killed.self) { try student.run(output: path, overwrite: true) }
        let aside = try #require(try manager.contentsOfDirectory(atPath: root).first { $0.hasPrefix(".student.replaced-") }, "the earlier student is kept")
        #expect(manager.contents(atPath: root + "/" + aside + "/" + TrainingRunFolder.resultName) == earlier)
        #expect(warnings.lines == ["the run replacing \(path) failed, and what is there now is kept; the earlier output is kept at \(root)/\(aside)"])

        try manager.removeItem(atPath: root + "/" + aside)
        student.parallelism = nil
        try student.run(output: path, overwrite: true)
        #expect(try manager.contentsOfDirectory(atPath: root).sorted() == ["student", "teacher"] && warnings.lines.count == 1)
    }

    /// The default LR view of a 16-px teacher is fitted to it (`size=8..16`: no view up-sampled)
    /// and stored in the run's settings; a run of an earlier version, whose settings hold no
    /// spec, resumes with the default it ran with (`size=8..20`) and stores that.
    @Test func theDefaultLRViewFitsTheTeacherAndIsStored() throws {
        let root = temporaryFolder()
        defer { removeFolder(root) }
        let data = "synthetic:identities=4,images=4,size=16"
        var teacher = try TeacherTraining(configuration: tinyTeacher(data: data, steps: 1, checkpointEvery: 1))
        teacher.say = { _ in }
        try teacher.run(output: root + "/teacher")
        var settings = DistillationConfiguration()
        settings.training = tinyTeacher(data: data, steps: 3, checkpointEvery: 1)
        settings.teacher = root + "/teacher"
        let said = Warnings(), warned = Warnings()
        var student = try DistillationTraining(configuration: settings)
        student.say = { said.lines.append($0) }
        student.warn = { warned.lines.append($0) }
        let fitted = "size=8..16,interp=bicubic,blur=0..0.6,noise=0..3,up=16"
        try student.run(output: root + "/new")
        #expect(try DistillationConfiguration(contentsOf: root + "/new/" + TrainingRunFolder.settingsName).degrade == fitted)
        #expect(said.lines.contains { $0.contains("LR view \(fitted);") }, "\(said.lines)")
        #expect(warned.lines.isEmpty, "\(warned.lines)")

        // Resumed with the settings it started with (no spec): the same fitted view, not another.
        var interrupted = student
        interrupted.parallelism = KilledProcess(killAt: 2)
        #expect(throws: Killed.self) { try interrupted.run(output: root + "/mid") }
        said.lines = []
        try student.run(output: root + "/mid", resume: true)
        #expect(said.lines.contains { $0.contains("LR view \(fitted);") && $0.contains("resuming at step 2") }, "\(said.lines)")
        #expect(try DistillationConfiguration(contentsOf: root + "/mid/" + TrainingRunFolder.settingsName).degrade == fitted)

        student.parallelism = KilledProcess(killAt: 2)
        #expect(throws: Killed.self) { try student.run(output: root + "/old") }
        let path = root + "/old/" + TrainingRunFolder.settingsName
        var stored = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        stored["degrade"] = nil  // (as earlier versions wrote it)
        try JSONSerialization.data(withJSONObject: stored).write(to: URL(fileURLWithPath: path))
        said.lines = []
        var resumed = try DistillationTraining(configuration: TrainingRunFolder.resumedConfiguration(root + "/old", as: DistillationConfiguration.self, layers: []))
        resumed.say = { said.lines.append($0) }
        resumed.warn = { warned.lines.append($0) }
        try resumed.run(output: root + "/old", resume: true)
        let earlier = "size=8..20,interp=bicubic,blur=0..0.6,noise=0..3,up=16"
        #expect(said.lines.contains { $0.contains("LR view \(earlier);") && $0.contains("resuming at step 2") }, "\(said.lines)")
        #expect(try DistillationConfiguration(contentsOf: path).degrade == earlier)
        // That spec reaches above the 16-px teacher: the run says so (it trained silently before).
        #expect(warned.lines.contains { $0.contains("size 8..20 reaches 20, above the 16×16 HR image's shorter side 16") }, "\(warned.lines)")
    }

    /// A run resumed after its image folder changed (an image removed) is refused, naming what
    /// changed; with the data as it was, it resumes.
    @Test func aResumeOnChangedDataIsRefused() throws {
        let root = temporaryFolder()
        defer { removeFolder(root) }
        let faces = SyntheticFaces(identities: 3, imagesPerIdentity: 4, size: 16, channels: 3, seed: 2)
        try writeImageFolder(faces, to: root + "/faces")
        var teacher = try TeacherTraining(configuration: tinyTeacher(data: root + "/faces", steps: 4, checkpointEvery: 1))
        teacher.say = { _ in }
        teacher.parallelism = KilledProcess(killAt: 2)
        let path = root + "/teacher"
        #expect(throws: Killed.self) { try teacher.run(output: path) }
        teacher.parallelism = nil
        let moved = root + "/faces/id0/0.png"
        try FileManager.default.moveItem(atPath: moved, toPath: root + "/0.png")
        let error = try #require(throws: TrainingError.self) { try teacher.run(output: path, resume: true) }
        #expect("\(error)".contains("(images 11, identities 3, labels checksum crc64-xz:"), "\(error)")
        #expect("\(error)".contains("are not the ones this run was trained with (images 12, identities 3"), "\(error)")
        #expect("\(error)".contains("images were added, removed or relabelled since the run started"))
        try FileManager.default.moveItem(atPath: root + "/0.png", toPath: moved)
        #expect(try teacher.run(output: path, resume: true).resumedFrom == 2)
    }
}
