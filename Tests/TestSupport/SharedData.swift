import Foundation

/// The read-only data sets in `../shared/data` beside the package root. Tests that need one
/// skip with a message naming it when it is absent; nothing from there is copied into the repo.
public enum SharedData {
    /// The package root (this file is `Tests/TestSupport/SharedData.swift`).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data/<name>`, or `nil` when absent.
    public static func url(_ name: String) -> URL? {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
