import CrossRes
import Foundation

/// `crossres demo`: the main job on the built-in synthetic faces — a teacher, students with
/// and without each transfer family, the cross-resolution comparison, and a report folder.
enum DemoCommand {
    static let help = """
        usage: crossres demo [--quick] [--output DIR] [--force] [--seeds 1,2,3] [--config FILE]
          --quick        a run of about a minute (one seed, few steps): the CI smoke test
          --output DIR   run folder to create (default runs/demo-<date>); never overwritten without --force
          --force        replace an existing run folder
          --seeds LIST   student seeds, comma-separated (default 1,2,3)
          --config FILE  a JSON study configuration (keys as in report.json's "configuration"; missing keys keep defaults)
        The synthetic set: 100 training and 40 test identities, 16 images each, 32×32 RGB.
        """

    static func run(_ arguments: [String]) throws {
        let options = try CommandOptions(arguments, flags: ["--quick", "--force"], values: ["--output", "--seeds", "--config"], help: help)
        if options.helpRequested { print(help); return }
        var configuration = options.flag("--quick") ? CrossResolutionStudy.Configuration.quick : CrossResolutionStudy.Configuration()
        if let path = options.value("--config") { configuration = try StudyConfigurationFile.load(path, over: configuration) }
        if let seeds = options.value("--seeds") {
            let parsed = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw CommandLineError("--seeds needs comma-separated non-negative integers, got '\(seeds)'") }
            configuration.seeds = parsed.map { $0! }
        }
        let output = options.value("--output") ?? "runs/demo-" + ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let study = try CrossResolutionStudy(configuration: configuration)
        let folder = try RunFolder(creating: output, overwrite: options.flag("--force"))

        let started = Date()
        let faces = SyntheticFaces(identities: 140, imagesPerIdentity: 16, size: configuration.imageSize, channels: 3, seed: 42)
        let (train, test) = Splits.identityDisjoint(try InMemoryDataset(loading: faces), testIdentities: 40, seed: 42)
        let sheet = try ContactSheet.image(dataset: train, degradation: Degradation(parsing: configuration.trainingDegradation), count: 24)
        try sheet.write(to: URL(fileURLWithPath: folder.file("samples.png")))

        let result = try study.run(train: train, test: test, datasetName: "synthetic faces (100 train / 40 test identities, 32×32)")
        let report = StudyReport(result)
        try report.write(to: folder)
        print("\n" + report.markdown)
        print(String(format: "demo finished in %.0f s; report in %@", Date().timeIntervalSince(started), folder.path))
    }
}
