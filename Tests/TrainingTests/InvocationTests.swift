import Foundation
import Testing
import CrossRes

/// The command-line parser: flags and values by their options, config files as a lower layer,
/// and usage errors that name the argument.
struct InvocationTests {
    let options = [ConfigurationOption("steps", .integer, "N", "steps"), ConfigurationOption("quick", .flag, "", "quick"),
                   ConfigurationOption("seeds", .integerList, "LIST", "seeds"), ConfigurationOption("data", .text, "DATA", "data")]

    func usage(_ arguments: [String], options: [ConfigurationOption]? = nil, help: String = "HELP") -> String {
        do { _ = try Invocation(arguments, options: options ?? self.options, help: help); return "" } catch { return "\(error)" }
    }

    func message(_ body: () throws -> Any?) -> String {
        do { _ = try body(); return "" } catch { return "\(error)" }
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

    /// `--key=value` is `--key value` (what most command lines accept), switches included.
    @Test func attachedValuesAreValues() throws {
        let invocation = try Invocation(["--steps=12", "--quick=false", "--seeds=1,2", "--data=a=b"], options: options, help: "")
        #expect(try invocation.integer("steps") == 12 && !invocation.bool("quick") && invocation.seeds("seeds") == [1, 2])
        #expect(try invocation.string("data") == "a=b")
        #expect(try Invocation(["--quick=true"], options: options, help: "").bool("quick"))
        #expect(usage(["--steps=3", "--steps", "4"]).contains("--steps given twice"))
        #expect(usage(["--stpes=3"]).contains("unknown option '--stpes'"))
        #expect(usage(["--help=1"]).contains("--help takes no value"))
        #expect(usage(["--config="]).contains("--config is empty; give a FILE"))
    }

    /// An unknown option points to the command's help instead of printing all of it.
    @Test func anUnknownOptionGivesAShortHint() {
        let help = "usage: crossres demo [--quick] [--seeds LIST]\n\nThe main job.\n\noptions:\n  --quick  a quick run"
        #expect(usage(["--quik"]) == "unknown option '--quik'; see --help")
        #expect(usage(["--quik"], help: help) == "unknown option '--quik'; see crossres demo --help")
        #expect(usage(["--quik"], help: "usage: crossres train-teacher --data DATA --output DIR [options]") == "unknown option '--quik'; see crossres train-teacher --help")
        #expect(usage(["quick"]).contains("unknown option 'quick' (options start with --); see --help"))
    }

    /// A path given empty says so, on the command line or in the config file.
    @Test func emptyPathsAreNamed() throws {
        #expect(throws: CommandLineError.self) { try Invocation(["--data", ""], options: options, help: "").nonEmpty("data") }
        #expect(message { try Invocation(["--data", ""], options: options, help: "").required("data") } == "--data is empty; give a DATA")
        #expect(message { try Invocation([], options: options, help: "").required("data") } == "--data DATA is required (see --help)")
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let file = scratch + "/c.json"
        try Data(#"{"data": ""}"#.utf8).write(to: URL(fileURLWithPath: file))
        #expect(message { try Invocation(["--config", file], options: options, help: "").required("data") } == "config file \(file): 'data' is empty; give a DATA")
        #expect(try Invocation(["--data", "x"], options: options, help: "").nonEmpty("data") == "x")
        #expect(try Invocation([], options: options, help: "").nonEmpty("data") == nil)
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
        // Many stray keys (a data file given as --config): the first ten are listed, then the count.
        let stray = (0..<25).map { String(format: "\"x%02d\": 0", $0) }.joined(separator: ", ")
        try Data("{\(stray)}".utf8).write(to: URL(fileURLWithPath: file))
        let many = usage(["--config", file])
        #expect(many.contains("unknown keys 'x00', 'x01', 'x02', 'x03', 'x04', 'x05', 'x06', 'x07', 'x08', 'x09', … (25 in all); known: "), "\(many)")
        #expect(!many.contains("x10"))
    }

    @Test func aDeclaredConfigOptionTakesTheFileAsItsValue() throws {
        let own = options + [ConfigurationOption("config", .text, "FILE", "an experiment configuration")]
        let invocation = try Invocation(["--config", "/no/such/study.json"], options: own, help: "")
        #expect(try invocation.string("config") == "/no/such/study.json")
        #expect(invocation.layers.count == 1)
    }
}
