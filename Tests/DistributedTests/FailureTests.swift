import Foundation
import Testing

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

    @Test func aGlobalBatchThatDoesNotSplitIsRefused() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["train", "--steps", "2", "--batch", "7"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut, "hung: \(outcome.output)")
        #expect(outcome.status != 0)
        #expect(outcome.output.contains("the global batch 7 does not split evenly over 2 processes"), "\(outcome.output)")
    }
}
