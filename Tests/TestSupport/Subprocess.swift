import Foundation

/// What a finished child process left: its exit status, standard output and standard error.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let output: String
    public let errors: String
    /// Standard output followed by standard error (for checking messages wherever they went).
    public var combined: String { output + errors }
}

/// A child process that did not finish in time (it was stopped: SIGTERM, then SIGKILL).
public struct SubprocessTimeout: Error, CustomStringConvertible {
    public let command: [String]
    public let seconds: Double
    /// What it had written by then.
    public let partial: ProcessResult
    public var description: String {
        "\(command.joined(separator: " ")) did not finish within \(seconds) s and was stopped; its output so far:\n\(partial.combined)"
    }
}

/// Runs child processes for tests (Python fixtures, the built executables).
public enum Subprocess {
    /// Runs `executable` (a path, or a name looked up on `PATH`) with `arguments` in
    /// `directory` and waits for it, at most `timeout` seconds (then it is stopped and
    /// ``SubprocessTimeout`` thrown, so that a hung child fails its test instead of the whole
    /// run). Output goes to temporary files, so a child that writes a lot to both streams cannot
    /// block on a full pipe.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String]? = nil, timeout: Double = 600) throws -> ProcessResult {
        let scratch = try TemporaryDirectory.make("subprocess")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout"), errorsURL = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
              FileManager.default.createFile(atPath: errorsURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: scratch.path])
        }
        let output = try FileHandle(forWritingTo: outputURL), errors = try FileHandle(forWritingTo: errorsURL)
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let timedOut = try process.run(timeout: timeout, grace: 5)
        try output.close()
        try errors.close()
        let result = ProcessResult(status: process.terminationStatus,
                                   output: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
                                   errors: String(decoding: try Data(contentsOf: errorsURL), as: UTF8.self))
        if timedOut { throw SubprocessTimeout(command: [executable] + arguments, seconds: timeout, partial: result) }
        return result
    }
}

extension Process {
    /// Starts the process and waits for it to exit, at most `timeout` seconds; a process still
    /// running then is stopped (SIGTERM, then SIGKILL after `grace` seconds) and waited for.
    /// Returns whether it had to be stopped.
    public func run(timeout: TimeInterval, grace: TimeInterval) throws -> Bool {
        let finished = DispatchSemaphore(value: 0)
        terminationHandler = { _ in finished.signal() }
        try run()
        guard finished.wait(timeout: .now() + timeout) == .timedOut else { return false }
        terminate()
        if finished.wait(timeout: .now() + grace) == .timedOut {
            kill(processIdentifier, SIGKILL)
            finished.wait()
        }
        return true
    }
}

/// An executable product of the package, built next to the test bundle (`nil` when it was not
/// built).
public func builtExecutable(_ name: String) -> URL? {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                      Bundle.main.bundleURL.deletingLastPathComponent()]
    return candidates.map { $0.appendingPathComponent(name) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
}
