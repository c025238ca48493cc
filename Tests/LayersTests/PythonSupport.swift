import Foundation

/// Runs Python 3 scripts for interchange tests (fixtures are generated at test time).
enum Python {
    /// Whether `python3 -c "import <modules>"` succeeds.
    static func has(_ modules: String) -> Bool {
        (try? run("import \(modules)", arguments: []))?.status == 0
    }

    static let hasSafetensors = has("numpy, safetensors.numpy")
    static let hasTorch = has("torch, safetensors.torch")

    /// Runs `script` with `arguments`; returns the exit status and the combined output.
    @discardableResult
    static func run(_ script: String, arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process(), pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crossres-layers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
