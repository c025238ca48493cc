import Foundation

/// Fresh, uniquely named folders for tests that write files (tests run in parallel).
public enum TemporaryDirectory {
    /// Creates `<tmp>/crossres-<label>-<UUID>`; the caller removes it (`defer`).
    public static func make(_ label: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crossres-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
