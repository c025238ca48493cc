import CrossRes
import Foundation

/// Checks on a file a command is about to write, made before any work: its folder exists, the
/// path is not a folder itself, and it is neither one of the command's data `inputs` nor inside
/// one of their folders (``RunFolder/checkOutside(_:inputs:)``).
enum OutputPath {
    static func check(_ path: String, outside inputs: [String]) throws {
        do { try RunFolder.checkOutside(path, inputs: RunInputs(data: inputs)) } catch TrainingError.invalidConfiguration(let message) {
            throw CommandLineError(message)
        }
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
