import CrossRes
import Foundation

/// The run-folder flags of the training commands.
enum RunFolderOptions {
    static let training: [ConfigurationOption] = [
        ConfigurationOption("output", .text, "DIR", "run folder to create (required); an existing one is replaced only with --force"),
        ConfigurationOption("resume", .flag, "", "continue the run in --output from its last checkpoint (ends bit-identical to an uninterrupted run)"),
        ConfigurationOption("force", .flag, "", "replace an existing run folder"),
    ]

    /// `runs/<command>-<UTC date and time>`: the default run folder of the experiment commands.
    static func dated(_ command: String) -> String {
        "runs/\(command)-" + ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
    }

    static let report: [ConfigurationOption] = [
        ConfigurationOption("output", .text, "DIR", "report folder to create (required); an existing one is replaced only with --force"),
        ConfigurationOption("force", .flag, "", "replace an existing report folder"),
    ]

    /// Refuses, before any work, to replace an output folder that holds the `--config` file read.
    static func keepingConfig(_ invocation: Invocation, output: String, force: Bool) throws {
        guard force, let config = invocation.configPath else { return }
        try RunFolder.checkCreatable(output, overwrite: true, keeping: [config])
    }

    /// A training command's settings, run folder and how to treat it.
    typealias TrainingRun<C> = (configuration: C, output: String, resume: Bool, force: Bool)

    /// The configuration of a training command: from the layers, or, with `--resume`, from the
    /// run folder's settings (which the layers may only repeat).
    static func trainingRun<C: RunConfiguration>(_ type: C.Type, _ invocation: Invocation) throws -> TrainingRun<C> {
        let output = try invocation.required("output")
        let resume = try invocation.bool("resume"), force = try invocation.bool("force")
        guard !(resume && force) else { throw CommandLineError("--resume continues a run and --force replaces it: give one of them") }
        try keepingConfig(invocation, output: output, force: force)
        let layers = invocation.layers(keeping: C.keys)
        let configuration = resume ? try TrainingRunFolder.resumedConfiguration(output, as: C.self, layers: layers) : try C.layered(layers)
        return (configuration, output, resume, force)
    }
}
