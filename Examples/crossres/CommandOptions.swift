/// Flags and `--name value` options of one subcommand, validated: unknown flags, missing
/// values and repeated options are usage errors that show the help.
struct CommandOptions {
    private var flags: Set<String> = []
    private var values: [String: String] = [:]
    private var consumed: Set<String> = []
    let helpRequested: Bool

    init(_ arguments: [String], flags known: Set<String>, values valued: Set<String>, help: String) throws {
        var rest = arguments[...]
        var helpRequested = false
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" { helpRequested = true; continue }
            if known.contains(argument) {
                flags.insert(argument)
            } else if valued.contains(argument) {
                guard let value = rest.popFirst(), !value.hasPrefix("--") else { throw CommandLineError("\(argument) needs a value\n\n\(help)") }
                guard values.updateValue(value, forKey: argument) == nil else { throw CommandLineError("\(argument) given twice") }
            } else {
                throw CommandLineError("unknown option '\(argument)'\n\n\(help)")
            }
        }
        self.helpRequested = helpRequested
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }
    func value(_ name: String) -> String? { values[name] }
}
