import Foundation
import Datasets

/// One setting of a run: its JSON key (also the command-line flag, `--` + key), how its text
/// form is read, and a help line.
public struct ConfigurationOption: Sendable {
    /// How a setting is written on the command line and in JSON.
    public enum Kind: Sendable, Equatable {
        /// An integer (`--steps 100`, `"steps": 100`).
        case integer
        /// A non-negative integer (seeds).
        case unsignedInteger
        /// A number (`--lr 0.002`).
        case number
        /// Free text: a name, a path or a spec.
        case text
        /// `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0` on the command line).
        case boolean
        /// A switch without a value on the command line (`--force`); `true`/`false` in JSON.
        case flag
        /// Comma-separated integers (`--sizes 8,12,16`; a JSON array or the same string).
        case integerList
        /// A positive size in bytes, with a unit or without (`--teacher-cache-limit 6GiB`, `512MiB`,
        /// `1.5GB`, `1000000`; ``ByteSize``): stored as the number of bytes.
        case byteSize
    }

    public let key: String
    public let kind: Kind
    /// The value's name in help (`N`, `X`, `NAME`, `DIR`).
    public let placeholder: String
    public let help: String

    public init(_ key: String, _ kind: Kind, _ placeholder: String = "", _ help: String) {
        self.key = key
        self.kind = kind
        self.placeholder = placeholder
        self.help = help
    }

    /// The command-line flag (`--checkpoint-every`).
    public var flag: String { "--" + key }

    /// The JSON value of a command-line (or JSON string) `text`, or an error naming the option.
    public func value(parsing text: String, source: String) throws -> Any {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer:
            guard let value = Int(trimmed) else { throw mismatch(text, source) }
            return value
        case .unsignedInteger:
            guard let value = UInt64(trimmed) else { throw mismatch(text, source) }
            return value
        case .number:
            guard let value = Double(trimmed), value.isFinite else { throw mismatch(text, source) }
            try ConfigurationLayers.checkFitsFloat(value, key: key, source: source)
            return value
        case .text:
            return text
        case .boolean, .flag:
            switch trimmed.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw mismatch(text, source)
            }
        case .integerList:
            let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !trimmed.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw mismatch(text, source) }
            return parts.map { $0! }
        case .byteSize:
            do { return try ByteSize.bytes(parsing: trimmed) } catch let error as ByteSize.ParseError {
                throw TrainingError.invalidConfiguration("\(source): '\(key)' needs a size in bytes such as 6GiB, 512MiB, 1.5GB or 1000000, got '\(text)': \(error)")
            }
        }
    }

    /// A JSON `value` checked against the kind (strings of non-text kinds are parsed as on
    /// the command line), as a plain Swift value; a value of the wrong type is an error naming
    /// the option and `source`.
    public func value(from value: Any, source: String) throws -> Any {
        if let text = value as? String { return kind == .text ? text : try self.value(parsing: text, source: source) }
        // The JSON text tells numbers, booleans and arrays apart on every platform.
        let json = String(decoding: (try? JSONSerialization.data(withJSONObject: [value])) ?? Data(), as: UTF8.self)
        let body = String(json.dropFirst().dropLast())
        switch kind {
        case .text: break
        case .integer, .unsignedInteger, .number, .boolean, .flag, .byteSize:
            if !body.hasPrefix("[") && !body.hasPrefix("{") && !body.hasPrefix("\"") { return try self.value(parsing: body, source: source) }
        case .integerList:
            if let list = value as? [Any] {
                let items = try list.map { try ConfigurationOption(key, .integer, placeholder, help).value(from: $0, source: source) }
                return items
            }
        }
        throw mismatch(body, source)
    }

    private func mismatch(_ text: String, _ source: String) -> TrainingError {
        let what = switch kind {
        case .integer: "an integer"
        case .unsignedInteger: "a non-negative integer"
        case .number: "a number"
        case .text: "text"
        case .boolean, .flag: "true or false"
        case .integerList: "comma-separated integers (or a JSON array of integers)"
        case .byteSize: "a size in bytes such as 6GiB, 512MiB, 1.5GB or 1000000"
        }
        return .invalidConfiguration("\(source): '\(key)' needs \(what), got '\(text)'")
    }
}

/// The settings of a run (train a teacher, distil a student, evaluate), as a JSON object whose
/// keys are the command-line flags without `--`: a config file, the `settings.json` a run
/// writes into its folder, and the flags are three spellings of one thing.
///
/// A configuration is built in layers: its defaults (``init()``), then e.g. a config file, then
/// the flags — later layers win. Unknown keys are errors that name them (a typo must not be
/// silently ignored); so are values of the wrong type and values ``validate()`` rejects.
public protocol RunConfiguration: Codable, Equatable {
    /// The defaults.
    init()
    /// Every setting, in help order; their keys are exactly the JSON keys.
    static var options: [ConfigurationOption] { get }
    /// Throws ``TrainingError/invalidConfiguration(_:)`` naming the first bad value.
    func validate() throws
    /// Keys whose values may be file or folder paths (data, teacher weights): a run folder
    /// stores them absolute (see ``withAbsolutePaths(relativeTo:)``). Default: none.
    static var pathKeys: [String] { get }
    /// The ``pathKeys`` that name weights (a `.safetensors` file or a run folder), read by name,
    /// not scanned: an output may lie inside one (``RunInputs``). Default: none.
    static var modelPathKeys: [String] { get }
    /// The settings a run folder stored, completed with what the version that wrote them used
    /// for settings it did not store yet, so that a resume keeps them
    /// (``TrainingRunFolder/resumedConfiguration(_:as:layers:)``). Default: unchanged.
    static func completingEarlierVersion(_ stored: ConfigurationLayer) throws -> ConfigurationLayer
}

/// One layer of settings: where it came from (for errors) and its JSON values.
public struct ConfigurationLayer {
    public var source: String
    public var values: [String: Any]

    public init(source: String, values: [String: Any]) {
        self.source = source
        self.values = values
    }

    /// The JSON object in the file at `path`: UTF-8, or UTF-16 or UTF-32 transcoded to it
    /// (``JSONTextEncoding``; bytes that are not text are an error naming their offset, line
    /// and column). Invalid JSON is an error naming the line and column; so is a key given
    /// twice in one object (which JSON readers resolve silently). A pipe (`--config <(…)`,
    /// `/dev/stdin`) is read to its end; a file of more than ``maximumFileBytes`` is refused.
    public init(contentsOf path: String) throws {
        let raw: [UInt8], size: Int
        do { (raw, size) = try readFile(URL(fileURLWithPath: path), upTo: Self.maximumFileBytes) } catch {
            throw TrainingError.invalidConfiguration("config file \(path): cannot read it (missing or unreadable)")
        }
        guard size <= Self.maximumFileBytes else {
            throw TrainingError.invalidConfiguration("config file \(path): more than \(Self.maximumFileBytes >> 20) MiB, too long for a file of settings")
        }
        try self.init(bytes: raw, source: "config file \(path)")
    }

    /// The longest configuration file read, 16 MiB (settings take a few kilobytes; a pipe
    /// that never ends, such as `/dev/zero`, stops there).
    public static let maximumFileBytes = 1 << 24

    /// The JSON object in `raw`, the contents of a file, checked as ``init(contentsOf:)``
    /// describes; errors begin with `source`.
    public init(bytes raw: [UInt8], source: String) throws {
        let bytes: [UInt8]
        do { bytes = try JSONTextEncoding.utf8(raw) } catch {
            throw TrainingError.invalidConfiguration("\(source): \(error)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw TrainingError.invalidConfiguration("\(source): not valid JSON \(JSONTextScan.describe(error, in: bytes))")
        }
        guard let values = object as? [String: Any] else {
            throw TrainingError.invalidConfiguration("\(source): must hold a JSON object of settings")
        }
        if let duplicate = JSONTextScan.firstDuplicateKey(in: bytes) {
            throw TrainingError.invalidConfiguration(
                "\(source): '\(duplicate.path)' is given twice (again at line \(duplicate.line), column \(duplicate.column)); give each setting once")
        }
        self.init(source: source, values: values)
    }
}

/// Decoding of layered JSON settings onto defaults.
public enum ConfigurationLayers {
    /// `defaults` overlaid by `layers` in order. Keys outside `knownKeys` (default: the keys the
    /// defaults encode and `optionalKeys`, settings whose default is unset) are an error naming
    /// them and the known ones; a value that does not decode is an error naming its key and the
    /// layer it came from.
    public static func decode<C: Codable>(_ type: C.Type, defaults: C, knownKeys: [String]? = nil, optionalKeys: [String] = [],
                                          layers: [ConfigurationLayer]) throws -> C {
        var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
        let defaultValues = merged
        let known = knownKeys ?? Set(merged.keys).union(optionalKeys).sorted()
        var origin: [String: String] = [:], nulled: [String: String] = [:]
        for layer in layers {
            let unknown = Set(layer.values.keys).subtracting(known)
            guard unknown.isEmpty else {
                throw TrainingError.invalidConfiguration("\(layer.source): unknown \(unknown.count == 1 ? "setting" : "settings") \(Invocation.quotedNames(unknown.sorted())); known: \(known.joined(separator: ", "))")
            }
            for (key, value) in layer.values {
                // Named here, where the decoder would only say that the data "was not valid JSON".
                for number in ((value as? [Any]) ?? [value]).compactMap({ $0 as? Double }) {
                    try checkFitsFloat(number, key: key, source: layer.source)
                }
                merged[key] = value is NSNull ? nil : value
                origin[key] = layer.source
                nulled[key] = value is NSNull ? layer.source : nil
            }
        }
        do {
            return try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            // `null` unsets a setting, which only an optional one may be.
            if case .keyNotFound(let key, let context) = error, context.codingPath.isEmpty, let source = nulled[key.stringValue] {
                throw TrainingError.invalidConfiguration(
                    "\(source): '\(key.stringValue)' is null; it needs \(expectedValue(C.self, key: key.stringValue, in: merged)) (null only unsets optional settings)")
            }
            // Foundation reports some values (a negative number for an unsigned setting) without
            // their key: find it by putting each set value back to its default.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
               let key = origin.keys.sorted().first(where: { key in
                   var trial = merged
                   trial[key] = defaultValues[key]
                   return (try? JSONSerialization.data(withJSONObject: trial)).flatMap { try? JSONDecoder().decode(C.self, from: $0) } != nil
               }) {
                throw TrainingError.invalidConfiguration("\(origin[key]!): '\(key)' has a value its setting cannot hold: \(merged[key].map { "\($0)" } ?? "null")")
            }
            throw TrainingError.invalidConfiguration(describe(error, origin: origin))
        }
    }

    /// The settings of `preset` that differ from `base`'s, as a layer named `source`: a preset
    /// (`--quick`) laid over a config file, so that it wins like every other command-line option.
    public static func layer<C: Encodable>(_ source: String, preset: C, over base: C) -> ConfigurationLayer {
        let values = jsonObject(preset), defaults = jsonObject(base)
        return ConfigurationLayer(source: source, values: values.filter { key, value in defaults[key].map(canonical) != canonical(value) })
    }

    /// `configuration` as a JSON object (absent optional settings left out).
    static func jsonObject<C: Encodable>(_ configuration: C) -> [String: Any] {
        // Encoding a configuration of plain values cannot fail.
        (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration))) as? [String: Any] ?? [:]
    }

    /// A JSON value as compact JSON text.
    static func canonical(_ value: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    /// What `key` of `C` holds, in words ("an integer"): found by offering it a JSON object,
    /// which no setting is, and reading the type the decoder expected.
    static func expectedValue<C: Decodable>(_ type: C.Type, key: String, in values: [String: Any]) -> String {
        var trial = values
        trial[key] = [String: Any]()
        do {
            _ = try JSONDecoder().decode(C.self, from: JSONSerialization.data(withJSONObject: trial))
        } catch DecodingError.typeMismatch(let expected, let context) where context.codingPath.first?.stringValue == key {
            let name = "\(expected)"
            switch name {
            case "Int", "Int64", "Int32": return "an integer"
            case "UInt64", "UInt", "UInt32": return "a non-negative integer"
            case "Float", "Double": return "a number"
            case "String": return "text"
            case "Bool": return "true or false"
            default: return name.hasPrefix("Array") ? "a list" : "a value of type \(name)"
            }
        } catch {}
        return "a value"
    }

    /// Settings are 32-bit floats at most: a number that would overflow, or underflow to 0 or a
    /// subnormal, is an error naming its key and source.
    static func checkFitsFloat(_ value: Double, key: String, source: String) throws {
        guard value != 0 && !(Double(Float.leastNormalMagnitude)...Double(Float.greatestFiniteMagnitude)).contains(abs(value)) else { return }
        throw TrainingError.invalidConfiguration(
            "\(source): '\(key)' needs a number of magnitude \(Float.leastNormalMagnitude)...\(Float.greatestFiniteMagnitude) (or 0), got \(value)")
    }

    /// A decoding error as "source: 'key' needs …".
    static func describe(_ error: DecodingError, origin: [String: String]) -> String {
        func where_(_ path: [any CodingKey]) -> String {
            let key = path.first?.stringValue ?? "?"
            return "\(origin[key] ?? "settings"): '\(key)'"
        }
        switch error {
        case let .typeMismatch(type, context), let .valueNotFound(type, context):
            return "\(where_(context.codingPath)) needs a value of type \(type) (\(context.debugDescription))"
        case let .keyNotFound(key, _):
            return "settings: '\(key.stringValue)' is missing"
        case let .dataCorrupted(context):
            return "\(where_(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension RunConfiguration {
    /// The JSON keys, in help order.
    public static var keys: [String] { options.map(\.key) }

    public static var pathKeys: [String] { [] }

    public static var modelPathKeys: [String] { [] }

    public static func completingEarlierVersion(_ stored: ConfigurationLayer) throws -> ConfigurationLayer { stored }

    /// The ``pathKeys`` values, models (``modelPathKeys``) apart from data: what a run reads,
    /// which its output may not be, nor lie in when it is data, and which an overwritten output
    /// folder must not hold (``RunFolder/checkCreatable(_:overwrite:keeping:)``).
    public var inputs: RunInputs {
        let values = jsonObject
        func paths(_ keys: [String]) -> [String] { keys.compactMap { values[$0] as? String } }
        return RunInputs(data: paths(Self.pathKeys.filter { !Self.modelPathKeys.contains($0) }), models: paths(Self.modelPathKeys))
    }

    /// This configuration with every relative ``pathKeys`` value that names an existing file
    /// or folder under `directory` (default: the working directory) made absolute, so that a
    /// run folder's `settings.json` — and a `--resume` from it — works from any directory.
    /// Values that are not paths there (`synthetic:…`) are left as they are.
    public func withAbsolutePaths(relativeTo directory: String = FileManager.default.currentDirectoryPath) throws -> Self {
        var values = jsonObject
        for key in Self.pathKeys {
            guard let path = values[key] as? String, !path.isEmpty, !path.hasPrefix("/") else { continue }
            let absolute = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
            if FileManager.default.fileExists(atPath: absolute) { values[key] = absolute }
        }
        return try Self.layered([ConfigurationLayer(source: "settings", values: values)])
    }

    /// The defaults overlaid by `layers`, validated. Values are checked against their options'
    /// kinds; string values of non-text settings are parsed as on the command line (so
    /// `"sizes": "8,12,16"` works like `[8, 12, 16]`).
    public static func layered(_ layers: [ConfigurationLayer]) throws -> Self {
        let configuration = try ConfigurationLayers.decode(Self.self, defaults: Self(), knownKeys: keys, layers: layers.map(normalised))
        try configuration.validate()
        return configuration
    }

    /// Reads a configuration file (defaults for absent keys).
    public init(contentsOf path: String) throws {
        self = try Self.layered([ConfigurationLayer(contentsOf: path)])
    }

    /// `layer` with every value checked against its option's kind (see
    /// ``ConfigurationOption/value(from:source:)``); `null` unsets a setting.
    static func normalised(_ layer: ConfigurationLayer) throws -> ConfigurationLayer {
        var values = layer.values
        for option in options {
            if let value = values[option.key], !(value is NSNull) { values[option.key] = try option.value(from: value, source: layer.source) }
        }
        return ConfigurationLayer(source: layer.source, values: values)
    }

    /// The settings as a JSON object (absent optional settings left out).
    public var jsonObject: [String: Any] { ConfigurationLayers.jsonObject(self) }

    /// Pretty-printed JSON with sorted keys: the run folder's `settings.json`.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// The keys whose values differ between `self` and `other`.
    public func changedKeys(comparedTo other: Self) -> [String] {
        let a = jsonObject, b = other.jsonObject
        return Self.keys.filter { a[$0].map(Self.canonical) != b[$0].map(Self.canonical) }
    }

    /// The text a `--help` line shows as the default of `key` (`nil`: no default).
    public static func defaultDescription(_ key: String) -> String? {
        guard let value = Self().jsonObject[key] else { return nil }
        if let list = value as? [Any] { return list.map { "\($0)" }.joined(separator: ",") }
        if let text = value as? String { return text.isEmpty ? nil : text }
        return canonical(value)
    }

    /// A JSON value as compact JSON text (``ConfigurationLayers/canonical(_:)``).
    static func canonical(_ value: Any) -> String { ConfigurationLayers.canonical(value) }
}
