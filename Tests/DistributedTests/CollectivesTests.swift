import Foundation
import Testing

/// Each collective of ``ProcessGroup`` on rank-dependent data (`DistributedCheck collectives`),
/// in a world of one (started without mpirun: MPI's singleton mode) and of two.
@Suite(.serialized, .enabled(if: MPIJob.available, "\(MPIJob.unavailable)"))
struct CollectivesTests {
    @Test func oneProcessWithoutMpirun() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["collectives"], processes: 1, in: folder, timeout: 30)
        #expect(!outcome.timedOut && outcome.status == 0, "\(outcome.output)")
        let lines = outcome.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("size 1"), "\(outcome.output)")
        #expect(lines.contains("allReduceSum [1.0, 10.0]"))
        #expect(lines.contains("broadcast [5.0, 1.0]"))
        #expect(lines.contains("allGather [1, 2] [0.0, 0.0]"))
        #expect(lines.contains("computeRows [5, 1] [0.0, 1.0, 4.0, 9.0, 16.0]"))
    }

    @Test func twoProcesses() throws {
        let folder = try MPIJob.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try MPIJob.run(["collectives"], processes: 2, in: folder, timeout: 30)
        #expect(!outcome.timedOut && outcome.status == 0, "\(outcome.output)")
        let lines = outcome.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("size 2"), "\(outcome.output)")
        // Σ (rank + 1) = 1 + 2, Σ 10 = 20; rank 0's [5, 1]; rows 1 (rank 0, zeros) + 2 (rank 1, ones).
        #expect(lines.contains("allReduceSum [3.0, 20.0]"))
        #expect(lines.contains("broadcast [5.0, 1.0]"))
        #expect(lines.contains("allGather [3, 2] [0.0, 0.0, 1.0, 1.0, 1.0, 1.0]"))
        // Rows 0..<3 on rank 0, 3..<5 on rank 1, gathered.
        #expect(lines.contains("computeRows [5, 1] [0.0, 1.0, 4.0, 9.0, 16.0]"))
        // MPI_ERRORS_RETURN: a bad call comes back as a thrown error with MPI's message.
        #expect(lines.contains { $0.hasPrefix("invalid root: MPI error in MPI_Bcast (code ") && $0.contains("MPI_ERR_ROOT") }, "\(outcome.output)")
    }
}
