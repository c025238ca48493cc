import Foundation
import Testing

/// Shared test helpers: temporary folders, Python fixture scripts and `../shared/data`.
enum Fixtures {
    /// A fresh temporary directory (removed by the caller with `cleanUp`).
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crossres-datasets-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cleanUp(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    /// Whether `python3` can import every module in `modules`.
    static func pythonHas(_ modules: String...) -> Bool {
        (try? runPython("import " + modules.joined(separator: ", "), in: FileManager.default.temporaryDirectory)) != nil
    }

    static let hasPillow = pythonHas("PIL", "numpy")

    /// Runs a Python script with `directory` as working directory; returns its stdout.
    @discardableResult
    static func runPython(_ script: String, in directory: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.currentDirectoryURL = directory
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(message: String(decoding: errors, as: UTF8.self))
        }
        return String(decoding: output, as: UTF8.self)
    }

    struct PythonFailure: Error { let message: String }

    /// `../shared/data/<name>` beside the package root, or `nil` when absent.
    static func sharedData(_ name: String) -> URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

extension Fixtures {
    /// Little-endian float32 values written by numpy's `tofile`.
    static func floats(_ url: URL) throws -> [Float] {
        let data = try bytes(url)
        return stride(from: 0, to: data.count, by: 4).map { i in
            Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
        }
    }

    /// The largest absolute difference between two equally long arrays.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxDifference: \(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// A Python prelude: numpy, pillow, and `save(name, array)` writing planar float32.
    static let pillowPrelude = """
    import numpy as np, zlib, struct
    from PIL import Image
    rng = np.random.default_rng(0)
    def save(name, arr):
        a = np.asarray(arr, np.float32)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        np.ascontiguousarray(a).tofile(name + '.f32')

    """
}
