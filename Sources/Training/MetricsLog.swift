import Foundation

/// A JSON-lines metrics log: one object per line (`{"step": 10, "loss": 1.25, …}`), flushed
/// after every record so a killed run keeps what it logged.
public final class MetricsLog {
    public let path: String
    private let handle: FileHandle

    /// Opens `path` for appending (created if absent).
    public init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one record. Non-finite numbers are written as strings (`"NaN"`), which JSON lacks.
    public func append(_ record: [String: Any]) throws {
        let clean = record.mapValues { value -> Any in
            if let x = value as? Double, !x.isFinite { return "\(x)" }
            if let x = value as? Float, !x.isFinite { return "\(x)" }
            return value
        }
        var data = try JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys])
        data.append(0x0A)
        try handle.write(contentsOf: data)
    }
}
