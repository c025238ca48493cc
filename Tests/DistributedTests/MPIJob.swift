import Foundation
import Tensor
import TestSupport

/// Runs the `DistributedCheck` executable (built next to the test bundle) directly or under
/// `mpirun -np N`, with a bounded time: a job still running after its timeout is killed and
/// reported, so a collective that hangs fails the test instead of blocking it.
enum MPIJob {
    /// The built check executable (`nil` when it was not built).
    static let executable = builtExecutable("DistributedCheck")
    /// The built `crossres` command line (`nil` when it was not built).
    static let crossres = builtExecutable("crossres")

    /// `mpirun` on the `PATH` (`nil`: Open MPI's `openmpi-bin` is not installed).
    static let mpirun: URL? = {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    static var available: Bool { executable != nil && mpirun != nil }
    static let unavailable = "needs the DistributedCheck executable next to the test bundle and mpirun (apt-get install openmpi-bin)"

    struct Outcome {
        let status: Int32
        let output: String
        let timedOut: Bool
    }

    /// Runs `DistributedCheck arguments` (or another `program`) on `processes` ranks (1: started
    /// directly, MPI's singleton mode) in `folder`, with `environment` added to every rank's,
    /// killing it after `timeout` seconds.
    static func run(_ arguments: [String], processes: Int, in folder: URL, timeout: TimeInterval = 60,
                    program: URL? = executable, environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        if processes == 1 {
            process.executableURL = program!
            process.arguments = arguments
        } else {
            process.executableURL = mpirun!
            process.arguments = ["-np", String(processes)] + mpirunOptions + [program!.path] + arguments
        }
        return try launch(process, in: folder, timeout: timeout, environment: environment)
    }

    /// Unbound ranks that yield while waiting: the test machine runs other work too.
    static let mpirunOptions = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "--mca", "mpi_yield_when_idle", "1"]

    /// Runs `program arguments` under `mpirun` as one rank per folder of `directories`, rank r
    /// working in `directories[r]` (an MPMD job: `-np 1 -wdir A program … : -np 1 -wdir B
    /// program …`) — the same command line resolving relative paths to other files per rank.
    static func run(_ arguments: [String], rankDirectories directories: [URL], in folder: URL, timeout: TimeInterval = 60,
                    program: URL? = executable) throws -> Outcome {
        let process = Process()
        process.executableURL = mpirun!
        let contexts = directories.map { ["-np", "1", "-wdir", $0.path, program!.path] + arguments }
        process.arguments = mpirunOptions + contexts.dropFirst().reduce(contexts[0]) { $0 + [":"] + $1 }
        return try launch(process, in: folder, timeout: timeout)
    }

    /// Starts `process` in `folder` with the test environment and `added`, killing it after `timeout` seconds.
    private static func launch(_ process: Process, in folder: URL, timeout: TimeInterval, environment added: [String: String] = [:]) throws -> Outcome {
        process.currentDirectoryURL = folder
        // Each rank single-threaded, so two ranks do not fight over the test machine's cores.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        environment["OPENBLAS_NUM_THREADS"] = "1"
        environment["CROSSRES_THREADS"] = "1"
        environment.merge(added) { $1 }
        process.environment = environment
        let log = folder.appendingPathComponent("job-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        let timedOut = try process.run(timeout: timeout, grace: 3)  // mpirun forwards SIGTERM to its ranks
        try handle.close()
        let output = String(decoding: try Data(contentsOf: log), as: UTF8.self)
        return Outcome(status: process.terminationStatus, output: output, timedOut: timedOut)
    }

    /// The largest absolute difference between two weight files' tensors (same names).
    static func maxDifference(_ a: URL, _ b: URL) throws -> Float {
        let x = try Safetensors(contentsOf: a).tensors, y = try Safetensors(contentsOf: b).tensors
        guard Set(x.keys) == Set(y.keys), x.keys.allSatisfy({ x[$0]!.shape == y[$0]!.shape }) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(a.lastPathComponent) and \(b.lastPathComponent) hold different tensors"])
        }
        return x.keys.map { name in zip(x[name]!.scalars, y[name]!.scalars).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    /// A fresh temporary folder.
    static func folder() throws -> URL { try TemporaryDirectory.make("distributed") }
}
