import Foundation

/// A run's output folder: created fresh, never silently overwritten.
public struct RunFolder {
    public let path: String

    /// Creates `path` (and parents). An existing folder is an error unless `overwrite`, in
    /// which case its contents are removed first.
    public init(creating path: String, overwrite: Bool) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard overwrite else { throw TrainingError.runFolderExists(path) }
            guard isDirectory.boolValue else {
                throw TrainingError.invalidConfiguration("\(path) exists and is not a folder; refusing to replace a file")
            }
            try manager.removeItem(atPath: path)
        }
        try manager.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    /// Path of `name` inside the folder.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `data` to `name` atomically (temporary file in the folder, then rename).
    public func write(_ data: Data, to name: String) throws {
        try data.write(to: URL(fileURLWithPath: file(name)), options: .atomic)
    }
}
