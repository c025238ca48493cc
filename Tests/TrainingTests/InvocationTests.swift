import Foundation
import Testing
import CrossRes

/// The command-line parser: flags and values by their options, config files as a lower layer,
/// and usage errors that name the argument.
struct InvocationTests {
    let options = [ConfigurationOption("steps", .integer, "N", "steps"), ConfigurationOption("quick", .flag, "", "quick"),
                   ConfigurationOption("seeds", .integerList, "LIST", "seeds"), ConfigurationOption("data", .text, "DATA", "data")]

    func usage(_ arguments: [String], options: [ConfigurationOption]? = nil) -> String {
        do { _ = try Invocation(arguments, options: options ?? self.options, help: "HELP"); return "" } catch { return "\(error)" }
    }

    @Test func valuesFlagsAndListsAreTyped() throws {
        let invocation = try Invocation(["--steps", "12", "--quick", "--seeds", "1,2", "--data", "faces"], options: options, help: "")
        #expect(try invocation.integer("steps") == 12 && invocation.bool("quick") && invocation.seeds("seeds") == [1, 2])
        #expect(try invocation.string("data") == "faces")
        #expect(try Invocation(["-h"], options: options, help: "").helpRequested)
    }

    @Test func usageErrorsNameTheArgument() {
        #expect(usage(["--stpes", "3"]).contains("unknown option '--stpes'"))
        #expect(usage(["steps"]).contains("options start with --"))
        #expect(usage(["--steps"]).contains("--steps needs a value (N)"))
        #expect(usage(["--steps", "--quick"]).contains("--steps needs a value"))
        #expect(usage(["--quick", "--quick"]).contains("--quick given twice"))
        #expect(usage(["--steps", "ten"]).contains("steps"))
        #expect(usage(["--seeds", "-1"], options: options).isEmpty)  // parsed; seeds() rejects it
        #expect(throws: CommandLineError.self) { try Invocation(["--seeds", "-1"], options: options, help: "").seeds("seeds") }
    }

    @Test func configFileIsALowerLayerAndUnknownKeysAreNamed() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let file = scratch + "/c.json"
        try Data(#"{"steps": 5, "data": "a"}"#.utf8).write(to: URL(fileURLWithPath: file))
        let invocation = try Invocation(["--config", file, "--data", "b"], options: options, help: "")
        #expect(try invocation.integer("steps") == 5 && invocation.string("data") == "b")
        try Data(#"{"stpes": 5}"#.utf8).write(to: URL(fileURLWithPath: file))
        #expect(usage(["--config", file]).contains("unknown key 'stpes'"))
        #expect(usage(["--config", file, "--config", file]).contains("--config given twice"))
    }

    @Test func aDeclaredConfigOptionTakesTheFileAsItsValue() throws {
        let own = options + [ConfigurationOption("config", .text, "FILE", "an experiment configuration")]
        let invocation = try Invocation(["--config", "/no/such/study.json"], options: own, help: "")
        #expect(try invocation.string("config") == "/no/such/study.json")
        #expect(invocation.layers.count == 1)
    }
}
