import CrossRes
import Foundation

/// `crossres demo`: the main job on the built-in synthetic faces — a teacher, students with
/// and without each transfer family, the cross-resolution comparison, and a report folder.
enum DemoCommand {
    static let help = """
        usage: crossres demo [--quick] [--output DIR] [--force] [--seeds 1,2,3] [--config FILE]
                             [--data synthetic|yaleb[:PATH]|FOLDER|FILE.rec] [--test-identities N]
          --quick        a run of about a minute (one seed, few steps): the CI smoke test
          --data         the faces (default: the built-in synthetic set); yaleb = Extended Yale B
                         (default PATH ../shared/data/extended_yale_b_cropped/CroppedYale, ambient images
                         skipped); images are converted to RGB and resized to the study's input size
          --test-identities N  identities held out for evaluation (default 40 synthetic, 20 otherwise)
          --output DIR   run folder to create (default runs/demo-<date>); never overwritten without --force
          --force        replace an existing run folder
          --seeds LIST   student seeds, comma-separated (default 1,2,3)
          --config FILE  a JSON study configuration (keys as in report.json's "configuration"; missing keys keep defaults)
        The synthetic set: 140 identities (100 train / 40 test), 16 images each, 32×32 RGB.
        """

    /// The data set named by `--data`, at the study's input size, its name, and its default
    /// number of test identities.
    static func dataset(_ argument: String?, size: Int) throws -> (any FaceDataset, String, Int) {
        guard let argument, argument != "synthetic" else {
            return (SyntheticFaces(identities: 140, imagesPerIdentity: 16, size: size, channels: 3, seed: 42), "synthetic faces", 40)
        }
        if argument == "yaleb" || argument.hasPrefix("yaleb:") {
            let path = argument == "yaleb" ? "../shared/data/extended_yale_b_cropped/CroppedYale" : String(argument.dropFirst(6))
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandLineError("--data \(argument): no folder \(path) (Extended Yale B, cropped: yaleBNN/*.pgm)")
            }
            return (ResizedDataset(try ImageFolderDataset.extendedYaleB(root: URL(fileURLWithPath: path)), size: size), "Extended Yale B", 20)
        }
        let source = try DataSource(parsing: argument)
        return (ResizedDataset(try source.open(), size: size), source.description, 20)
    }

    static func run(_ arguments: [String]) throws {
        let options = try CommandOptions(arguments, flags: ["--quick", "--force"],
                                         values: ["--output", "--seeds", "--config", "--data", "--test-identities"], help: help)
        if options.helpRequested { print(help); return }
        var configuration = options.flag("--quick") ? CrossResolutionStudy.Configuration.quick : CrossResolutionStudy.Configuration()
        if let path = options.value("--config") { configuration = try ConfigurationLayers.decode(CrossResolutionStudy.Configuration.self, defaults: configuration, layers: [ConfigurationLayer(contentsOf: path)]) }
        if let seeds = options.value("--seeds") {
            let parsed = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw CommandLineError("--seeds needs comma-separated non-negative integers, got '\(seeds)'") }
            configuration.seeds = parsed.map { $0! }
        }
        let output = options.value("--output") ?? "runs/demo-" + ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let study = try CrossResolutionStudy(configuration: configuration)
        let folder = try RunFolder(creating: output, overwrite: options.flag("--force"))

        let started = Date()
        let (faces, name, defaultTestIdentities) = try dataset(options.value("--data"), size: configuration.imageSize)
        var testIdentities = defaultTestIdentities
        if let text = options.value("--test-identities") {
            guard let n = Int(text), n >= 2 * configuration.verificationFolds, n < faces.identityCount else {
                throw CommandLineError("--test-identities needs an integer in \(2 * configuration.verificationFolds)..<\(faces.identityCount), got '\(text)'")
            }
            testIdentities = n
        }
        let (train, test) = Splits.identityDisjoint(try InMemoryDataset(loading: faces), testIdentities: testIdentities, seed: 42)
        let sheet = try ContactSheet.image(dataset: train, degradation: Degradation(parsing: configuration.trainingDegradation), count: 24)
        try sheet.write(to: URL(fileURLWithPath: folder.file("samples.png")))

        let result = try study.run(train: train, test: test,
                                   datasetName: "\(name) (\(train.identityCount) train / \(test.identityCount) test identities, \(configuration.imageSize)×\(configuration.imageSize))")
        let report = StudyReport(result)
        try report.write(to: folder)
        print("\n" + report.markdown)
        print(String(format: "demo finished in %.0f s; report in %@", Date().timeIntervalSince(started), folder.path))
    }
}
