import Foundation

/// A JSON configuration file for any `Codable` configuration: any subset of its keys; absent
/// keys keep the given defaults, unknown keys are an error (a typo must not be silently
/// ignored), and a value of the wrong type names the key.
enum ConfigurationFile {
    static func load<Configuration: Codable>(_ path: String, over defaults: Configuration) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandLineError("--config: cannot read \(path)") }
        guard let overrides = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CommandLineError("--config: \(path) is not a JSON object")
        }
        var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(defaults)) as! [String: Any]
        let unknown = Set(overrides.keys).subtracting(merged.keys)
        guard unknown.isEmpty else {
            throw CommandLineError("--config: \(path): unknown keys \(unknown.sorted().joined(separator: ", ")); known: \(merged.keys.sorted().joined(separator: ", "))")
        }
        merged.merge(overrides) { $1 }
        do {
            return try JSONDecoder().decode(Configuration.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw CommandLineError("--config: \(path): \(error)")
        }
    }
}
