import CrossRes
import Foundation

/// Checks on a file a command is about to write, made before any work: its folder exists, and
/// the path is not a folder itself.
enum OutputPath {
    static func check(_ path: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandLineError("\(path) is a folder; it must name a file")
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard manager.fileExists(atPath: parent, isDirectory: &isDirectory) else {
            throw CommandLineError("cannot write \(path): folder \(parent) does not exist")
        }
        guard isDirectory.boolValue else { throw CommandLineError("cannot write \(path): \(parent) is not a folder") }
    }
}
