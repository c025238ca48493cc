import Foundation
import Datasets

/// Writes reports atomically: the bytes go to a temporary file in the destination directory,
/// which is then renamed over the destination, so a reader never sees a half-written file.
public enum ReportWriter {
    /// `text` as UTF-8 at `url` (parent directories are created).
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// `value` as pretty-printed JSON with sorted keys; infinities (the ROC's first threshold)
    /// are written as the strings `"Infinity"` / `"-Infinity"`, NaN as `"NaN"`.
    public static func writeJSON<Value: Encodable>(_ value: Value, to url: URL) throws {
        try write(json(value), to: url)
    }

    /// `value` encoded as ``writeJSON(_:to:)`` writes it.
    public static func json<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(value)
    }

    /// A JSON report written by ``writeJSON(_:to:)``.
    public static func readJSON<Value: Decodable>(_ type: Value.Type, from url: URL) throws -> Value {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EvaluationError(.fileSystem, "cannot read \(url.path): \(fileErrorReason(error))")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { return try decoder.decode(type, from: data) } catch {
            throw EvaluationError(.fileSystem, "\(url.path) is not a valid \(type) report: \(error)")
        }
    }

    private static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: temporary)
        } catch {
            // A partial file left by a failed write (a full disk) would keep its space taken.
            try? FileManager.default.removeItem(at: temporary)
            throw EvaluationError(.fileSystem, "cannot write \(url.path): \(fileErrorReason(error))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw EvaluationError(.fileSystem, "cannot move the report into place at \(url.path): \(reason)")
        }
    }
}
