import Foundation
import Testing
import Tensor
import Datasets
import Layers
import Optim
import Training
@testable import Distributed
import TestSupport

/// Misuse a data-parallel run refuses before its first step, and what non-root ranks leave to
/// rank 0 — checked without `mpirun` (the collectives themselves are ``CollectivesTests``').
struct SetUpChecksTests {
    /// A classifier task (SmallFaceNet, CosFace head) with a plain, not distributed, optimiser.
    static func plainTask() throws -> ClassifierTask {
        var settings = TrainingConfiguration()
        settings.inputSize = 16
        settings.embeddingSize = 8
        var generator = RandomGenerator(seed: 1)
        let backbone = try ModelFactory.make(try settings.backbone(), using: &generator)
        let head = settings.makeHead(classes: 3, embeddingDimension: 8, using: &generator)
        return ClassifierTask(backbone: backbone, head: head, optimizer: settings.makeOptimizer(backbone.parameters() + head.parameters()))
    }

    // MARK: - DataParallelTask

    @Test func aTaskWithAPlainOptimizerIsNamed() throws {
        #expect(DataParallelTask.undistributedOptimizers(of: try Self.plainTask()) == ["optimiser 'optimizer' (Adam)"])
    }

    /// Wrapping a task whose optimiser averages nothing stops the process (a precondition, as
    /// wrapping a task twice does) with a message naming the optimiser: each rank would step
    /// with its own shard's gradients while the losses and buffers are averaged.
    @Test func dataParallelTaskRefusesAnUndistributedOptimizer() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let group = try ProcessGroup.world()  // a world of one (MPI's singleton start-up)
            _ = DataParallelTask(try SetUpChecksTests.plainTask(), group: group)
        }
        let output = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(output.contains("optimiser 'optimizer' (Adam) of ClassifierTask is not a DistributedOptimizer"), "\(output)")
        #expect(output.contains("DistributedOptimizer(optimizer, group: group)"), "\(output)")
    }

    /// A task that stops its own step on a non-finite value without `ensureFinite`.
    final class SelfStoppingTask: TrainingTask {
        var checkpointedModules: [(name: String, module: any Module)] { [] }
        var optimizers: [(name: String, optimizer: any Optimizer)] { [] }
        func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
            throw TrainingError.nonFinite(step: -1, what: "loss term 'own' (nan)", lastCheckpoint: nil)
        }
    }

    /// With one process nobody waits in a collective: a task's own non-finite stop stands (it
    /// became `DistributedError.inconsistent`, losing the loop's log event and checkpoint message).
    @Test func oneProcessKeepsItsOwnNonFiniteStop() async {
        await #expect(processExitsWith: .success) {
            let group = try ProcessGroup.world()  // a world of one
            let task = DataParallelTask(SetUpChecksTests.SelfStoppingTask(), group: group)
            let batch = TrainingBatch(highResolution: Tensor.zeros([1, 1, 1, 1]), lowResolution: Tensor.zeros([1, 1, 1, 1]),
                                      labels: [0], indices: [0])
            var stoppedAsNonFinite = false
            do { _ = try task.step(batch, progress: 0) } catch TrainingError.nonFinite { stoppedAsNonFinite = true } catch {}
            try group.finalize()
            exit(stoppedAsNonFinite ? 0 : 1)
        }
    }

    // MARK: - TrainingLoop.onRank

    /// A non-root rank prints no warning (they would repeat rank 0's, once per rank) and has no
    /// critic-collapse watch: rank 0's stop is agreed with every rank after each step (a watch on
    /// rank 0 alone left the others waiting; one on every rank disagreed after a resume, as only
    /// rank 0 restores its count).
    @Test func nonRootRanksLeaveTheCollapseWatchAndTheWarningsToRank0() throws {
        final class Warnings: @unchecked Sendable { var lines: [String] = [] }
        let warnings = Warnings()
        let loop = TrainingLoop(steps: 3, checkpointPath: "checkpoint.safetensors", criticCollapse: CriticCollapseDetector(window: 2),
                                warn: { warnings.lines.append($0) })
        let root = loop.onRank(isRoot: true), other = loop.onRank(isRoot: false)
        #expect(root.criticCollapse?.window == 2 && root.checkpointPath != nil)
        root.warn("rank 0")
        #expect(other.criticCollapse == nil)
        #expect(other.checkpointPath == nil && other.log == nil && other.progress == nil && other.evaluate == nil)
        other.warn("rank 1")
        #expect(warnings.lines == ["rank 0"])
    }

    // MARK: - Batch splits before anything is loaded

    /// `batch mod processes` is checked with the other splits, before the teacher, its feature
    /// cache and the run folder (it was raised when the batches were sharded, after them).
    @Test func aBatchThatDoesNotSplitIsRefusedBeforeTheSetUp() throws {
        var settings = TrainingConfiguration()
        settings.batch = 7
        let error = try #require(throws: TrainingError.self) { try settings.checkBeforeRunning(processes: 2, resume: true) }
        #expect("\(error)".contains("the global batch 7 does not split evenly over 2 processes; choose a 'batch' that is a multiple of 2 (6 or 8)"), "\(error)")
        try settings.checkBatchSplits(over: 1)
        settings.batch = 3
        #expect("\(try #require(throws: TrainingError.self) { try settings.checkBatchSplits(over: 4) })".contains("(4)"))
        settings.batch = 8
        try settings.checkBatchSplits(over: 2)
    }

    // MARK: - The same teacher and data on every rank

    @Test func dataInvariantsTellDataSetsApart() throws {
        let data = RankInvariant.data(SyntheticFaces(identities: 4, imagesPerIdentity: 5, size: 8))
        #expect(data.map(\.name) == ["images", "identities", "labels checksum"])
        #expect(data.map(\.text).prefix(2) == ["20", "4"])
        #expect(data == RankInvariant.data(SyntheticFaces(identities: 4, imagesPerIdentity: 5, size: 8)))
        let more = RankInvariant.data(SyntheticFaces(identities: 4, imagesPerIdentity: 6, size: 8))
        #expect(zip(data, more).map { $0.value != $1.value } == [true, false, true])
        // The same counts, one sample relabelled: only the checksum differs.
        let samples = (0..<6).map { Sample(image: Image(width: 2, height: 2, channels: 1, value: 0), label: $0 % 3) }
        var relabelled = samples
        relabelled[4] = Sample(image: samples[4].image, label: 0)
        let a = RankInvariant.data(InMemoryDataset(samples: samples, identityCount: 3))
        let b = RankInvariant.data(InMemoryDataset(samples: relabelled, identityCount: 3))
        #expect(zip(a, b).map { $0.value != $1.value } == [false, false, true])
        #expect(a[2].text.hasPrefix("crc64-xz:") && a[2].text.count == "crc64-xz:".count + 16)
    }

    @Test func weightInvariantsTellWeightsApart() throws {
        let configuration = try TrainingConfiguration().backbone()
        var g1 = RandomGenerator(seed: 1), g1again = RandomGenerator(seed: 1), g2 = RandomGenerator(seed: 2)
        let one = RankInvariant.weights(try ModelFactory.make(configuration, using: &g1), name: "teacher weights checksum")
        #expect(one == RankInvariant.weights(try ModelFactory.make(configuration, using: &g1again), name: "teacher weights checksum"))
        #expect(one != RankInvariant.weights(try ModelFactory.make(configuration, using: &g2), name: "teacher weights checksum"))
        #expect(one.isChecksum && one.text.hasPrefix("crc64-xz:"))
    }

    /// What every rank reports when a value differs: each differing value, with rank 0's and
    /// each differing rank's.
    @Test func differencesNameTheValuesAndRanks() throws {
        let rank0 = [RankInvariant.count("images", 100), .count("identities", 10), .checksum("teacher weights checksum", 0xABC)]
        var rank2 = rank0
        rank2[0].value = 103
        rank2[2].value = 0xDEF
        #expect(RankInvariant.differences([rank0, rank0]) == nil)
        #expect(RankInvariant.differences([rank0, rank0, rank2])
                == "images (rank 0: 100, rank 2: 103); teacher weights checksum (rank 0: crc64-xz:0000000000000abc, rank 2: crc64-xz:0000000000000def)")
    }

    /// A distillation run stores its teacher's checksum in the checkpoint; a resume after the
    /// teacher file changed is refused, naming both checksums; a checkpoint written before the
    /// checksum was stored resumes unchecked.
    @Test func aResumeWithAnotherTeacherIsRefused() throws {
        let folder = try TemporaryDirectory.make("teacher-checksum")
        defer { try? FileManager.default.removeItem(at: folder) }
        let teacherPath = folder.appendingPathComponent("teacher").path, studentPath = folder.appendingPathComponent("student").path
        var teacherSettings = TrainingConfiguration()
        teacherSettings.data = "synthetic:identities=4,images=4,size=16"
        teacherSettings.inputSize = 16
        teacherSettings.embeddingSize = 8
        teacherSettings.batch = 8
        teacherSettings.steps = 1
        func trainTeacher(seed: UInt64, overwrite: Bool) throws {
            teacherSettings.seed = seed
            var training = try TeacherTraining(configuration: teacherSettings)
            training.say = { _ in }
            try training.run(output: teacherPath, overwrite: overwrite)
        }
        try trainTeacher(seed: 0, overwrite: false)
        var settings = DistillationConfiguration()
        settings.training = teacherSettings
        settings.training.steps = 2
        settings.teacher = teacherPath
        settings.transfer = "l2=5"
        settings.degrade = "size=8,up=16"
        var distillation = try DistillationTraining(configuration: settings)
        distillation.say = { _ in }
        try distillation.run(output: studentPath)

        let checkpoint = folder.appendingPathComponent("student/checkpoint.safetensors").path
        let (teacher, _) = try ModelFactory.load(weights: ModelFactory.weightsFile(teacherPath))
        let original = RankInvariant.weights(teacher, name: "teacher weights checksum").text
        #expect(try Safetensors.metadata(contentsOf: URL(fileURLWithPath: checkpoint))[DistillationTraining.teacherChecksumKey] == original)
        try distillation.run(output: studentPath, resume: true)  // the same teacher: resumes (complete: nothing to do)

        try trainTeacher(seed: 1, overwrite: true)
        let error = try #require(throws: TrainingError.self) { try distillation.run(output: studentPath, resume: true) }
        #expect("\(error)".contains("are not the ones this run was trained with (\(original) in \(checkpoint))"), "\(error)")
        #expect("\(error)".contains("the teacher file changed since the run started"), "\(error)")

        // A checkpoint of an earlier version, without the checksum, resumes.
        var old = try Checkpoint(contentsOf: checkpoint)
        old.metadata[DistillationTraining.teacherChecksumKey] = nil
        try old.write(to: checkpoint)
        try distillation.run(output: studentPath, resume: true)
    }
}

/// `crossres train-teacher` / `distill` without `--distributed` in a process `mpirun` started as
/// one of several (the environment says so) would race the other ranks on the same `--output`:
/// refused with status 2. The environment is set on a plain child process; no `mpirun` needed.
@Suite(.enabled(if: MPIJob.crossres != nil, "needs the crossres executable next to the test bundle"))
struct LaunchedByMpirunTests {
    static let teacher = ["train-teacher", "--data", "synthetic:identities=4,images=4,size=16", "--input-size", "16",
                          "--embedding-size", "8", "--batch", "8", "--steps", "1", "--output", "run"]

    func crossres(_ arguments: [String], environment: [String: String], in folder: URL) throws -> ProcessResult {
        try Subprocess.run(MPIJob.crossres!.path, arguments, in: folder, environment: environment, timeout: 120)
    }

    @Test(arguments: [("OMPI_COMM_WORLD_SIZE", "train-teacher"), ("PMI_SIZE", "distill")])
    func aRankOfSeveralWithoutDistributedIsRefused(variable: String, command: String) throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = command == "distill" ? ["distill", "--teacher", "teacher"] + Self.teacher.dropFirst() : Self.teacher
        let result = try crossres(arguments, environment: [variable: "2"], in: folder)
        #expect(result.status == 2, "\(result.combined)")
        #expect(result.combined.contains("crossres \(command): started by mpirun with 2 processes (\(variable)=2) but without --distributed"), "\(result.combined)")
        #expect(result.combined.contains("add --distributed, or run one process"), "\(result.combined)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run").path))
    }

    /// `mpirun -np 1` (a world size of 1) is one process: it runs.
    @Test func oneProcessStartedByMpirunRuns() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try crossres(Self.teacher, environment: ["OMPI_COMM_WORLD_SIZE": "1"], in: folder)
        #expect(result.status == 0, "\(result.combined)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/result.json").path))
    }
}
