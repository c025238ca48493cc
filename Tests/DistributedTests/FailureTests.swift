import Foundation
import Testing
import Tensor
import Training

/// Bad set-ups end every rank with a clear message instead of hanging (each job is bounded
/// by a timeout, so a hang fails the test).
@Suite(.serialized, .enabled(if: MPIJob.available, "\(MPIJob.unavailable)"))
struct FailureTests {
    @Test func mismatchedConfigurationsStopEveryRank() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["mismatch", "--steps", "4", "--batch", "8"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("the processes run different configurations: rank(s) 1 differ from rank 0"), "\(outcome.output)")
    }

    @Test(arguments: ["throw", "kill"])
    func aRankThatDiesEndsTheJob(how: String) throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["fail", "--rank", "1", "--how", how, "--steps", "6", "--batch", "8"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        if how == "throw" { #expect(outcome.output.contains("rank 1 fails on purpose"), "\(outcome.output)") }
        #expect(!outcome.output.contains("trained steps"), "\(outcome.output)")
    }

    /// A NaN in rank 1's rows only (rank 0's are fine; with synchronised BatchNorm the NaN
    /// reaches rank 0's loss through the shared statistics): the ranks agree on the guard's
    /// verdict, so every rank stops at the same step with the same error, naming the rank that
    /// saw it and rank 0's last checkpoint (rank 1 writes none: it said "no checkpoint was
    /// written yet"), and rank 0 logs the `non-finite` event before the job ends.
    @Test(arguments: [([String](), "on rank 1"), (["--model", "smallfacenet", "--sync-batchnorm"], "on rank 0 (and on rank 1)")])
    func aNonFiniteValueOnOneRankStopsEveryRankAtTheSameStep(model: [String], where ranks: String) throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train", "--steps", "8", "--batch", "8", "--checkpoint", "run.ckpt", "--checkpoint-every", "2",
                                      "--log", "metrics.jsonl", "--nan-rank", "1", "--nan-at-step", "4"] + model,
                                     processes: 2, in: folder, timeout: 60)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        let message = "training stopped at step 4: loss term 'mse' (nan) \(ranks) is not finite (NaN or Inf); the last good checkpoint is kept at run.ckpt"
        for rank in 0..<2 { #expect(outcome.output.contains("rank \(rank) stopped: \(message)"), "\(outcome.output)") }
        #expect(!outcome.output.contains("no checkpoint was written yet"), "\(outcome.output)")
        #expect(!outcome.output.contains("trained steps"), "\(outcome.output)")
        let records = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(records.count == 4, "steps 1–3 and the event: \(records)")
        #expect(records.last?["event"] as? String == "non-finite" && records.last?["step"] as? Int == 4, "\(records)")
        #expect(records.last?["what"] as? String == "loss term 'mse' (nan) \(ranks)", "\(records)")
        // The checkpoint of step 2 is kept; the stop came before step 4's updates and checkpoint.
        let metadata = try Safetensors.metadata(contentsOf: folder.appendingPathComponent("run.ckpt"))
        #expect(metadata["crossres.step"] == "2", "\(metadata)")
    }

    /// Rank 1 sleeps (a stuck file read, a deadlock) before an all-reduce that rank 0 waits in:
    /// after the collective timeout (2 s, from `CROSSRES_COLLECTIVE_TIMEOUT`) rank 0's watchdog
    /// names the collective and aborts the job. Without it rank 0 waited until rank 1 woke
    /// (300 s), past the job's bound.
    @Test func aRankThatNeverArrivesTimesTheCollectiveOut() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["stall", "--rank", "1"], processes: 2, in: folder, timeout: 60,
                                     environment: ["CROSSRES_COLLECTIVE_TIMEOUT": "2"])
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("rank 0 of 2: collective timeout: MPI_Allreduce (sum) of 3 floats (12 bytes) has waited 2."), "\(outcome.output)")
        #expect(outcome.output.contains("longer than the collective timeout of 2 s"), "\(outcome.output)")
        #expect(!outcome.output.contains("stall: all-reduce"), "\(outcome.output)")
    }

    /// A timeout that is not seconds, 0 or off stops `DistributedCheck` and `crossres` naming it.
    @Test func aBadCollectiveTimeoutIsRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let message = "CROSSRES_COLLECTIVE_TIMEOUT='30m' is not a collective timeout"
        let check = try MPIJob.run(["collectives"], processes: 1, in: folder, timeout: 30, environment: ["CROSSRES_COLLECTIVE_TIMEOUT": "30m"])
        #expect(check.status == 1 && check.output.contains("DistributedCheck: \(message)"), "\(check.output)")
        if let crossres = MPIJob.crossres {
            let outcome = try MPIJob.run(["train-teacher", "--data", "synthetic:identities=2,images=2,size=16", "--output", "run", "--distributed"],
                                         processes: 1, in: folder, timeout: 30, program: crossres, environment: ["CROSSRES_COLLECTIVE_TIMEOUT": "30m"])
            #expect(outcome.status == 2 && outcome.output.contains("crossres train-teacher: \(message)"), "\(outcome.output)")
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run").path))
        }
    }

    @Test func aGlobalBatchThatDoesNotSplitIsRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train", "--steps", "2", "--batch", "7"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("the global batch 7 does not split evenly over 2 processes"), "\(outcome.output)")
    }

    // MARK: - Rank 0's checks stop every rank

    /// Every rank of `outcome` printed `rank R stopped:` (``reportingStop``, which then waits at a
    /// barrier): rank 0 with its own error `message`, rank 1 with it as rank 0's. Without the
    /// agreement rank 1 went on into the next collective — it never printed, and the barrier
    /// against its collective hung until the timeout.
    static func expectEveryRankStopped(_ outcome: MPIJob.Outcome, with message: String) {
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("rank 0 stopped: \(message)"), "\(outcome.output)")
        #expect(outcome.output.contains("rank 1 stopped: stopped because another process failed: \"\(message)"), "\(outcome.output)")
        #expect(outcome.output.contains("\" on rank 0\n"), "\(outcome.output)")
    }

    /// `DistributedCheck teacher|distill` on one process (it must succeed).
    static func trainAlone(_ arguments: [String], in folder: URL) throws {
        let outcome = try MPIJob.run(arguments, processes: 1, in: folder, timeout: 120)
        try #require(outcome.status == 0 && !outcome.timedOut, "\(arguments): \(outcome.output)")
    }

    /// A new run into an existing folder: rank 0's check of the run folder (`RunFolder.checkCreatable`).
    @Test func rank0sRunFolderCheckStopsEveryRank() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("run"), withIntermediateDirectories: false)
        let outcome = try MPIJob.run(["teacher", "--output", "run"], processes: 2, in: folder, timeout: 60)
        Self.expectEveryRankStopped(outcome, with: "run folder run already exists; choose another --output or pass --force to overwrite it")
    }

    /// A resume whose checkpoint lacks the optimiser's step counts: rank 0's restore in
    /// `TrainingRunFolder.open` (the other ranks waited for its state in `synchronise`).
    @Test func rank0sCheckpointRestoreStopsEveryRank() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainAlone(["teacher", "--output", "run", "--steps", "1"], in: folder)
        let path = folder.appendingPathComponent("run/checkpoint.safetensors").path
        var checkpoint = try Checkpoint(contentsOf: path)
        try #require(checkpoint.tensors.removeValue(forKey: "optimizer.0.steps") != nil, "\(checkpoint.tensors.keys.sorted())")
        try checkpoint.write(to: path)
        let outcome = try MPIJob.run(["teacher", "--output", "run", "--steps", "2", "--resume"], processes: 2, in: folder, timeout: 60)
        Self.expectEveryRankStopped(outcome, with: "checkpoint run/checkpoint.safetensors: optimizer state: missing or mis-shaped '0.steps'")
    }

    /// A distillation resumed with another teacher: rank 0's resume check of the teacher (`TrainingRunFolder.checkUnchanged`).
    @Test func rank0sTeacherCheckOnResumeStopsEveryRank() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.trainAlone(["teacher", "--output", "teacher", "--steps", "1"], in: folder)
        try Self.trainAlone(["distill", "--teacher", "teacher", "--output", "student", "--steps", "1"], in: folder)
        try Self.trainAlone(["teacher", "--output", "teacher", "--steps", "1", "--seed", "1", "--overwrite"], in: folder)
        let outcome = try MPIJob.run(["distill", "--teacher", "teacher", "--output", "student", "--steps", "2", "--resume"],
                                     processes: 2, in: folder, timeout: 60)
        Self.expectEveryRankStopped(outcome, with: "invalid configuration: the teacher's weights teacher/backbone.safetensors (crc64-xz:")
        #expect(outcome.output.contains("are not the ones this run was trained with"), "\(outcome.output)")
    }

    /// Rank 0 cannot write its checkpoint at step 2 (its folder does not exist): what rank 0
    /// alone does after a step (checkpoint, log, evaluation, collapse stop) stops every rank.
    @Test func rank0sFailureAfterAStepStopsEveryRank() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train", "--steps", "6", "--batch", "8", "--checkpoint", "missing/run.ckpt", "--checkpoint-every", "2",
                                      "--report-stop"], processes: 2, in: folder, timeout: 60)
        Self.expectEveryRankStopped(outcome, with: "checkpoint missing/run.ckpt: cannot write")
        #expect(!outcome.output.contains("trained steps"), "\(outcome.output)")
    }
}
