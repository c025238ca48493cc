import Foundation
import Testing
import Datasets

/// `crossres train-teacher --distributed` and `crossres distill --distributed` under `mpirun
/// -np 2`: rank 0 writes the run folder, and checkpoints move between process counts
/// (SmallFaceNet has BatchNorm, whose per-rank statistics make 1- and 2-process weights
/// differ, so this checks the wiring; the numerical equivalence is ``DataParallelTrainingTests``).
@Suite(.serialized, .enabled(if: MPIJob.available && MPIJob.crossres != nil, "\(MPIJob.unavailable), and the crossres executable"))
struct TrainingCommandTests {
    static let model = ["--data", "synthetic:identities=4,images=4,size=16", "--input-size", "16", "--embedding-size", "8"]
    static let data = model + ["--batch", "8"]
    static let teacher = ["train-teacher"] + data
    static let distillCommand = ["distill", "--teacher", "teacher", "--transfer", "l2=5", "--degrade", "size=8,up=16"]
    static let distill = distillCommand + data

    func crossres(_ arguments: [String], processes: Int, in folder: URL) throws -> String {
        let outcome = try MPIJob.run(arguments, processes: processes, in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!outcome.timedOut, "timed out: \(outcome.output)")
        #expect(outcome.status == 0, "\(outcome.output)")
        return outcome.output
    }

    /// A checkpoint at step 2 of `source` put into the complete 4-step run `target` (whose
    /// result is removed), so `--resume` continues `target` from step 2.
    func rewind(_ target: String, to source: String, in folder: URL) throws {
        let checkpoint = "checkpoint.safetensors"
        try FileManager.default.removeItem(at: folder.appendingPathComponent("\(target)/\(checkpoint)"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("\(target)/result.json"))
        try FileManager.default.copyItem(at: folder.appendingPathComponent("\(source)/\(checkpoint)"),
                                         to: folder.appendingPathComponent("\(target)/\(checkpoint)"))
    }

    /// A 2-process run of `command` into `two`: one run folder, each step logged once.
    func expectOneFolder(_ command: [String], in folder: URL) throws {
        let two = try crossres(command + ["--steps", "2", "--distributed", "--output", "two"], processes: 2, in: folder)
        #expect(two.contains("data-parallel over 2 process(es): global batch 8, 4 per process"), "\(two)")
        for name in ["settings.json", "metrics.jsonl", "checkpoint.safetensors", "backbone.safetensors", "result.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("two/\(name)").path), "\(name)")
        }
        let records = try String(contentsOf: folder.appendingPathComponent("two/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(records.count == 2, "rank 0 alone logs each step once: \(records)")
    }

    @Test func twoProcessTeacherRunsWriteOneFolderAndResumeInOne() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try expectOneFolder(Self.teacher, in: folder)

        // 2 → 1: the 2-process checkpoint continues in one process.
        _ = try crossres(Self.teacher + ["--steps", "4", "--output", "one"], processes: 1, in: folder)
        try rewind("one", to: "two", in: folder)
        let resumed = try crossres(["train-teacher", "--output", "one", "--resume"], processes: 1, in: folder)
        #expect(resumed.contains("resuming at step 2 of 4"), "\(resumed)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("one/result.json").path))
    }

    /// `--sync-batchnorm true`: a 2-process teacher run is the 1-process run (SmallFaceNet has
    /// BatchNorm throughout); without it, per-shard statistics give another network.
    @Test func synchronisedBatchNormTeacherOnTwoProcessesMatchesOne() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = Self.teacher + ["--steps", "3", "--optimizer", "sgd"]
        _ = try crossres(run + ["--sync-batchnorm", "true", "--output", "one"], processes: 1, in: folder)
        _ = try crossres(run + ["--sync-batchnorm", "true", "--distributed", "--output", "two"], processes: 2, in: folder)
        _ = try crossres(run + ["--distributed", "--output", "ghost"], processes: 2, in: folder)
        let weights = { (name: String) in folder.appendingPathComponent("\(name)/backbone.safetensors") }
        // Measured: weights within 2.4·10⁻⁶; the embedding BatchNorm's running variance (values
        // up to 63) within 8.4·10⁻⁵. Per-shard statistics: 32.
        let synchronised = try MPIJob.maxDifference(weights("one"), weights("two"))
        #expect(synchronised <= 1e-3, "synchronised: \(synchronised)")
        #expect(try MPIJob.maxDifference(weights("one"), weights("ghost")) > 0.1)
    }

    @Test func twoProcessDistillRunsWriteOneFolderAndResumeUnderOtherCounts() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try crossres(Self.teacher + ["--steps", "2", "--output", "teacher"], processes: 1, in: folder)
        try expectOneFolder(Self.distill, in: folder)

        // 2 → 1: the 2-process checkpoint continues in one process.
        _ = try crossres(Self.distill + ["--steps", "4", "--output", "one"], processes: 1, in: folder)
        try rewind("one", to: "two", in: folder)
        let resumed = try crossres(["distill", "--output", "one", "--resume"], processes: 1, in: folder)
        #expect(resumed.contains("resuming at step 2 of 4"), "\(resumed)")

        // 1 → 2: a 1-process checkpoint continues on two processes.
        _ = try crossres(Self.distill + ["--steps", "2", "--output", "half"], processes: 1, in: folder)
        _ = try crossres(Self.distill + ["--steps", "4", "--output", "more"], processes: 1, in: folder)
        try rewind("more", to: "half", in: folder)
        let spread = try crossres(["distill", "--output", "more", "--resume", "--distributed"], processes: 2, in: folder)
        #expect(spread.contains("resuming at step 2 of 4"), "\(spread)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("more/result.json").path))
    }

    @Test(arguments: ["train-teacher", "distill"])
    func aBatchThatDoesNotSplitStopsEveryRank(_ command: String) throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let odd = (command == "distill" ? Self.distillCommand : [command]) + Self.model + ["--batch", "7"]
        if command == "distill" {
            _ = try crossres(Self.teacher + ["--steps", "1", "--output", "teacher"], processes: 1, in: folder)
        }
        let outcome = try MPIJob.run(odd + ["--steps", "2", "--distributed", "--output", "odd"], processes: 2,
                                     in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("crossres \(command):"), "\(outcome.output)")
        #expect(outcome.output.contains("the global batch 7 does not split evenly over 2 processes; choose a 'batch' that is a multiple of 2 (6 or 8)"), "\(outcome.output)")
        #expect(!outcome.output.contains("data-parallel over"), "announced a split it then refused: \(outcome.output)")
        // Refused before the teacher, the data and the run folder (TrainingConfiguration.checkBatchSplits).
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("odd").path))
    }

    /// Mistakes on the line end a `--distributed` run as they end one process: status 2 and the
    /// message alone, before MPI starts (they were an `MPI_Abort` with status 1 under its banner).
    @Test(arguments: [([String](), "--output DIR is required"),
                      (["--output", "run", "--resume", "--force"], "--resume continues a run and --force replaces it")])
    func usageErrorsExitWithStatusTwo(_ arguments: [String], _ message: String) throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(Self.teacher + ["--steps", "1", "--distributed"] + arguments, processes: 2,
                                     in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status == 2, "\(outcome.output)")
        #expect(outcome.output.contains("crossres train-teacher: \(message)"), "\(outcome.output)")
        #expect(!outcome.output.contains("MPI_ABORT"), "\(outcome.output)")
    }

    /// One row per process would leave each process's BatchNorm a single value per channel (it
    /// trapped on every rank after rank 0 had created the run folder): refused before anything
    /// is written.
    @Test func oneRowPerProcessIsRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train-teacher"] + Self.model + ["--batch", "2", "--steps", "1", "--distributed", "--output", "one"],
                                     processes: 2, in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("'batch' 2 over 2 processes gives 1 per process"), "\(outcome.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("one").path))
    }

    /// Every rank holds a whole teacher cache, so the machine's `--teacher-cache-limit` is split
    /// between its ranks: 16 images × 8 floats take 512 bytes a rank, above half of 800 bytes
    /// (refused before the run folder, naming the share) and within half of 1200.
    @Test func ranksOnAMachineShareItsTeacherCacheLimit() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try crossres(Self.teacher + ["--steps", "1", "--output", "teacher"], processes: 1, in: folder)
        let cached = Self.distill + ["--steps", "1", "--cache-teacher", "true", "--flip", "false", "--distributed"]
        let refused = try MPIJob.run(cached + ["--teacher-cache-limit", "800B", "--output", "small"], processes: 2, in: folder,
                                     timeout: 120, program: MPIJob.crossres)
        #expect(!refused.timedOut, "hung: \(refused.output)")
        #expect(refused.status != 0)
        #expect(refused.output.contains("needs 512 bytes") && refused.output.contains(
            "above the limit of 400 bytes (teacher-cache-limit 800 bytes per machine, shared by the 2 processes on this machine"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("small").path))
        _ = try crossres(cached + ["--teacher-cache-limit", "1200B", "--output", "fits"], processes: 2, in: folder)
    }

    /// Each rank loads the teacher and opens the data itself (only rank 0's trained state is
    /// broadcast), so a stale teacher file or a data set with more images on one machine gave
    /// mixed teachers and overlapping shards without an error. Here the same command line
    /// resolves its relative paths in another folder per rank: refused before any step, naming
    /// what differs, and before rank 0 writes its run folder.
    @Test func ranksWithAnotherTeacherOrOtherDataAreRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ranks = ["a", "b"].map { folder.appendingPathComponent($0) }
        for (rank, directory) in ranks.enumerated() {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try crossres(Self.teacher + ["--steps", "1", "--seed", String(rank), "--output", "teacher"], processes: 1, in: directory)
            try RecordIODataset.write(SyntheticFaces(identities: 4, imagesPerIdentity: 4 + rank, size: 16),
                                      rec: directory.appendingPathComponent("data.rec"))
        }
        let distill = try MPIJob.run(Self.distill + ["--steps", "1", "--distributed", "--output", "student"], rankDirectories: ranks,
                                     in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!distill.timedOut, "hung: \(distill.output)")
        #expect(distill.status != 0)
        #expect(distill.output.contains("the teacher (teacher/backbone.safetensors) differs between the processes: teacher weights checksum (rank 0: crc64-xz:"), "\(distill.output)")
        #expect(distill.output.contains("give every process the same teacher file"), "\(distill.output)")
        #expect(!FileManager.default.fileExists(atPath: ranks[0].appendingPathComponent("student").path))

        let teacher = try MPIJob.run(["train-teacher", "--data", "data.rec"] + Self.model.dropFirst(2) + ["--batch", "8", "--steps", "1", "--distributed", "--output", "run"],
                                     rankDirectories: ranks, in: folder, timeout: 120, program: MPIJob.crossres)
        #expect(!teacher.timedOut, "hung: \(teacher.output)")
        #expect(teacher.status != 0)
        #expect(teacher.output.contains("the training data differs between the processes: images (rank 0: 16, rank 1: 20); labels checksum (rank 0: crc64-xz:"), "\(teacher.output)")
        #expect(!FileManager.default.fileExists(atPath: ranks[0].appendingPathComponent("run").path))
    }
}
