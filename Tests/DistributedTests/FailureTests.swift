import Foundation
import Testing
import Tensor

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

    @Test func aGlobalBatchThatDoesNotSplitIsRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train", "--steps", "2", "--batch", "7"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("the global batch 7 does not split evenly over 2 processes"), "\(outcome.output)")
    }
}
