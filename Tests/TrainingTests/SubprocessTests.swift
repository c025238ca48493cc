import Foundation
import Testing
import TestSupport

/// The child-process helper the CLI and Python tests run on.
@Suite struct SubprocessTests {
    @Test func reportsStatusAndBothStreams() throws {
        let result = try Subprocess.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.status == 3)
        #expect(result.output == "out\n")
        #expect(result.errors == "err\n")
    }

    @Test func stopsAChildThatOverrunsItsTimeout() throws {
        let start = Date()
        let error = #expect(throws: SubprocessTimeout.self) {
            try Subprocess.run("sh", ["-c", "echo started; exec sleep 60"], timeout: 0.5)
        }
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(error?.partial.output == "started\n")
        #expect(error?.description.contains("did not finish within 0.5 s") == true)
    }
}
