import CrossRes
import Foundation

/// `crossres <command> [options]`: the command line over the CrossRes library.
nonisolated let commands: [(name: String, summary: String, run: @Sendable ([String]) throws -> Void)] = [
    ("demo", "the main job on built-in synthetic data", DemoCommand.run),
    ("train-teacher", "train an HR teacher (backbone + margin head) in a run folder", TrainTeacherCommand.run),
    ("distill", "train an LR student from a teacher with transfer losses", DistillCommand.run),
    ("evaluate", "cross-resolution sweep of trained weights (verification, identification)", EvaluateCommand.run),
    ("pack", "image folder -> insightface RecordIO (.rec + .idx)", PackCommand.run),
    ("samples", "contact sheet of HR/LR sample pairs (PNG)", SamplesCommand.run),
    ("digits", "ADDA's MNIST<->USPS experiment: source only, ADDA, DANN", DigitsCommand.run),
    ("bench", "benchmarks (release build)", BenchCommand.run),
]

func usage() -> String {
    "usage: crossres <command> [options]   (crossres <command> --help for its options)\n\ncommands:\n"
        + commands.map { "  \($0.name.padding(toLength: 16, withPad: " ", startingAt: 0))\($0.summary)" }.joined(separator: "\n")
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, name != "--help", name != "-h", name != "help" else {
    print(usage())
    exit(arguments.isEmpty ? 2 : 0)
}
guard let command = commands.first(where: { $0.name == name }) else {
    FileHandle.standardError.write("crossres: unknown command '\(name)'\n\n\(usage())\n".data(using: .utf8)!)
    exit(2)
}
// Checked here, as the library would start with all cores instead.
if let threads = ProcessInfo.processInfo.environment["CROSSRES_THREADS"], !threads.isEmpty, Parallel.threadCount(environmentValue: threads) == nil {
    FileHandle.standardError.write("crossres \(name): CROSSRES_THREADS='\(threads)' is not a thread count: give a whole number from 1 to \(Parallel.maximumThreadCount)\n".data(using: .utf8)!)
    exit(2)
}
do {
    try command.run(Array(arguments.dropFirst()))
} catch let error as CommandLineError {
    FileHandle.standardError.write("crossres \(name): \(error.message)\n".data(using: .utf8)!)
    exit(2)
} catch {
    FileHandle.standardError.write("crossres \(name): \(error)\n".data(using: .utf8)!)
    exit(1)
}
