import Foundation
import Testing
@testable import Distributed

/// The collective timeout's setting (`CROSSRES_COLLECTIVE_TIMEOUT`) and the watchdog's report,
/// without `mpirun` (the watchdog ending a job is ``FailureTests``').
struct CollectiveTimeoutTests {
    @Test func secondsZeroAndOffAreRead() throws {
        #expect(try CollectiveTimeout.environment([:]) == .standard)
        #expect(CollectiveTimeout.standard.seconds == 1800 && CollectiveTimeout.standard.description == "30 min")
        #expect(try CollectiveTimeout.environment(["CROSSRES_COLLECTIVE_TIMEOUT": "2"]).seconds == 2)
        #expect(try CollectiveTimeout(parsing: " 2.5 ").seconds == 2.5)
        #expect(try CollectiveTimeout(parsing: "600").description == "10 min")
        #expect(try CollectiveTimeout(parsing: "2").description == "2 s")
        for off in ["0", "0.0", "off", "OFF", " Off "] { #expect(try CollectiveTimeout(parsing: off) == .off, "\(off)") }
        #expect(CollectiveTimeout.off.seconds == nil && CollectiveTimeout.off.nanoseconds == 0)
        #expect(try CollectiveTimeout(seconds: 0.5).nanoseconds == 500_000_000)
        #expect(try CollectiveTimeout(seconds: 1e300).nanoseconds == 1_000_000_000_000_000_000)
    }

    @Test(arguments: ["", "abc", "-1", "30m", "nan", "inf", "1,5"])
    func aBadValueIsAClearError(value: String) {
        #expect(throws: DistributedError.invalidCollectiveTimeout(value: value, source: "CROSSRES_COLLECTIVE_TIMEOUT")) {
            try CollectiveTimeout.environment(["CROSSRES_COLLECTIVE_TIMEOUT": value])
        }
        let message = DistributedError.invalidCollectiveTimeout(value: value, source: "CROSSRES_COLLECTIVE_TIMEOUT").description
        #expect(message.hasPrefix("CROSSRES_COLLECTIVE_TIMEOUT='\(value)' is not a collective timeout: give the seconds"), "\(message)")
        #expect(message.contains("or 0 or off for no timeout"), "\(message)")
    }

    @Test func negativeOrNonFiniteSecondsAreRefused() {
        for seconds in [-1, Double.nan, .infinity] {
            #expect(throws: DistributedError.self) { try CollectiveTimeout(seconds: seconds) }
        }
    }

    /// The report names the call and its size, the wait, the timeout, the likely cause and how
    /// to change the timeout.
    @Test func theReportNamesTheCollectiveAndTheWayOut() throws {
        let call = CollectiveCall(.allReduceSum, .float, count: 3)
        #expect(CollectiveCall(packed: call.packed) == call)
        let report = CollectiveWatchdog.report(call, waited: 2.04, timeout: try CollectiveTimeout(seconds: 2))
        #expect(report.hasPrefix("collective timeout: MPI_Allreduce (sum) of 3 floats (12 bytes) has waited 2.0 s for the other ranks, longer than the collective timeout of 2 s."), "\(report)")
        #expect(report.contains("Another rank failed, hung"), "\(report)")
        #expect(report.contains("CROSSRES_COLLECTIVE_TIMEOUT=<seconds>"), "\(report)")
        #expect(!report.contains("\n"))
        let descriptions = [CollectiveCall(.barrier), CollectiveCall(.broadcast, .byte, count: 1), CollectiveCall(.broadcast, .int64, count: 1),
                            CollectiveCall(.allGather, .int64, count: 2), CollectiveCall(.allGatherV, .float, count: 1 << 30)]
            .map { CollectiveCall(packed: $0.packed).description }
        #expect(descriptions == ["MPI_Barrier", "MPI_Bcast of 1 byte", "MPI_Bcast of 1 int64 (8 bytes)",
                                 "MPI_Allgather of 2 int64s (16 bytes) per rank", "MPI_Allgatherv of 1073741824 floats (4294967296 bytes) from this rank"])
    }
}
