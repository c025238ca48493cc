import CrossRes
import Foundation

/// A JSON study configuration: any subset of the keys of
/// ``CrossResolutionStudy/Configuration``; absent keys keep the given defaults, unknown keys are
/// an error (a typo must not be silently ignored).
enum StudyConfigurationFile {
    static func load(_ path: String, over defaults: CrossResolutionStudy.Configuration) throws -> CrossResolutionStudy.Configuration {
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
            return try JSONDecoder().decode(CrossResolutionStudy.Configuration.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw CommandLineError("--config: \(path): \(error)")
        }
    }
}
