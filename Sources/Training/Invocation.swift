import Foundation
import Tensor

/// One subcommand's command line — the argument parser of `crossres` and of programs built on
/// the library: `--key value` (or `--key=value`)
/// settings and `--switch` flags declared as ``ConfigurationOption``s, `--config FILE` (a JSON
/// object with the same keys, overridden by the flags) and `--help`. A command that declares
/// its own `config` option (an experiment configuration of other keys) gets `--config` as
/// that option's value instead. Unknown flags and keys, missing values and repeated flags are
/// usage errors that name them; an unknown flag's points to the help, whose first line
/// (`usage: PROGRAM COMMAND …`) names the command.
public struct Invocation {
    public let helpRequested: Bool
    /// The config file's values (if any), then the command line's: later layers win.
    public let layers: [ConfigurationLayer]
    /// The `--config` file read, if any (an input a replaced output folder must not hold).
    public let configPath: String?
    private let options: [ConfigurationOption]

    public init(_ arguments: [String], options: [ConfigurationOption], help: String) throws {
        self.options = options
        var rest = arguments[...]
        var helpRequested = false
        var values: [String: Any] = [:]
        var configPath: String?
        while var argument = rest.popFirst() {
            // `--key=value` is `--key value`.
            var attached: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                attached = String(argument[argument.index(after: equals)...])
                argument = String(argument[..<equals])
            }
            /// The value of a flag that takes one: attached, or the next argument unless that is
            /// the next flag (`--x`; a lone `--` or a negative number is a value).
            func value() -> String? { attached ?? rest.popFirst().flatMap { $0.hasPrefix("--") && $0.count > 2 ? nil : $0 } }
            if argument == "--help" || argument == "-h" {
                guard attached == nil else { throw CommandLineError("--help takes no value") }
                helpRequested = true
                continue
            }
            if argument == "--config" && !options.contains(where: { $0.key == "config" }) {
                guard let path = value() else { throw CommandLineError("--config needs a FILE") }
                guard !path.isEmpty else { throw CommandLineError("--config is empty; give a FILE") }
                guard configPath == nil else { throw CommandLineError("--config given twice") }
                configPath = path
                continue
            }
            guard let option = options.first(where: { $0.flag == argument }) else {
                throw CommandLineError("unknown option '\(argument)'" + (argument.hasPrefix("--") ? "" : " (options start with --)")
                                       + "; " + Self.helpHint(help))
            }
            guard values[option.key] == nil else { throw CommandLineError("\(argument) given twice") }
            if option.kind == .flag {
                // A switch takes no value; `--force=false` spells it out.
                values[option.key] = try attached.map { try option.value(parsing: $0, source: "command line") } ?? true
                continue
            }
            guard let text = value() else {
                throw CommandLineError("\(argument) needs a value (\(option.placeholder))")
            }
            values[option.key] = try option.value(parsing: text, source: "command line")
        }
        self.helpRequested = helpRequested
        self.configPath = configPath
        var layers: [ConfigurationLayer] = []
        if let configPath, !helpRequested {
            let file = try ConfigurationLayer(contentsOf: configPath)
            let known = Set(options.map(\.key))
            let unknown = file.values.keys.filter { !known.contains($0) }.sorted()
            guard unknown.isEmpty else {
                throw CommandLineError("\(file.source): unknown \(unknown.count == 1 ? "key" : "keys") \(Self.quotedNames(unknown)); known: \(options.map(\.key).joined(separator: ", "))")
            }
            layers.append(file)
        }
        layers.append(ConfigurationLayer(source: "command line", values: values))
        self.layers = layers
    }

    /// `names` quoted and comma-separated, the first `shown` of them only, then "… (N in all)"
    /// (a data file given as a config file would otherwise fill the terminal).
    static func quotedNames(_ names: [String], shown: Int = 10) -> String {
        let quoted = names.prefix(shown).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > shown ? quoted + ", … (\(names.count) in all)" : quoted
    }

    /// "see crossres demo --help": the program and command are the words of the help's first
    /// line (`usage: crossres demo [--quick] …`) before the first option or placeholder.
    static func helpHint(_ help: String) -> String {
        let first = help.prefix { $0 != "\n" }
        let words = !first.hasPrefix("usage: ") ? [] : first.dropFirst(7).split(separator: " ").prefix { word in
            !"-[(<".contains(word.first!) && word.uppercased() != word
        }
        return (["see"] + words.map(String.init) + ["--help"]).joined(separator: " ")
    }

    /// The layers restricted to `keys` (a library configuration's settings).
    public func layers(keeping keys: [String]) -> [ConfigurationLayer] {
        layers.map { ConfigurationLayer(source: $0.source, values: $0.values.filter { keys.contains($0.key) }) }
    }

    /// The value of `key` from the last layer that sets it, and that layer's name.
    private func raw(_ key: String) -> (value: Any, source: String)? {
        for layer in layers.reversed() { if let value = layer.values[key], !(value is NSNull) { return (value, layer.source) } }
        return nil
    }

    private func option(_ key: String) -> ConfigurationOption {
        guard let option = options.first(where: { $0.key == key }) else { preconditionFailure("Invocation: '\(key)' is not an option of this command") }
        return option
    }

    /// The checked value of `key` (see ``ConfigurationOption/value(from:source:)``), if set.
    private func value(_ key: String) throws -> Any? {
        guard let (value, source) = raw(key) else { return nil }
        return try option(key).value(from: value, source: source)
    }

    /// A text setting.
    public func string(_ key: String) throws -> String? { try value(key) as? String }

    /// A text setting that, when given, is not empty (a path): `--output ''` is an error saying so.
    public func nonEmpty(_ key: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        guard text.isEmpty else { return text }
        let option = option(key), source = raw(key)?.source ?? "command line"
        throw CommandLineError((source == "command line" ? "\(option.flag) is empty" : "\(source): '\(key)' is empty") + "; give a \(option.placeholder)")
    }

    /// A text setting that must be given, and not empty.
    public func required(_ key: String) throws -> String {
        guard let text = try nonEmpty(key) else { throw CommandLineError("\(option(key).flag) \(option(key).placeholder) is required (see --help)") }
        return text
    }

    /// An integer setting.
    public func integer(_ key: String) throws -> Int? { try value(key) as? Int }

    /// A seed setting.
    public func seed(_ key: String) throws -> UInt64? { try value(key) as? UInt64 }

    /// A list of non-negative integers (seeds), if set.
    public func seeds(_ key: String) throws -> [UInt64]? {
        guard let list = try value(key) as? [Int] else { return nil }
        guard !list.isEmpty, list.allSatisfy({ $0 >= 0 }) else {
            throw CommandLineError("\(option(key).flag) needs comma-separated non-negative integers, got \(list)")
        }
        return list.map(UInt64.init)
    }

    /// A boolean setting or switch (`false` when absent).
    public func bool(_ key: String) throws -> Bool { try value(key) as? Bool ?? false }
}

/// A usage error: unknown flag, bad value, missing file. `crossres` prints it without a stack
/// and exits with status 2.
public struct CommandLineError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
