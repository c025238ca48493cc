import CrossRes
import Foundation

/// `crossres demo`: the main job on the built-in synthetic faces — a teacher, students with
/// and without each transfer family, the cross-resolution comparison, and a report folder.
enum DemoCommand {
    static let options: [ConfigurationOption] = [
        ConfigurationOption("quick", .flag, "", "a run of about a minute (one seed, few steps): the CI smoke test"),
        ConfigurationOption("data", .text, "DATA", "synthetic (default), yaleb[:PATH] (Extended Yale B, cropped; default PATH ../shared/data/extended_yale_b_cropped/CroppedYale), an image FOLDER or FILE.rec; converted to RGB at the study's input size"),
        ConfigurationOption("test-identities", .integer, "N", "identities held out for evaluation (default 40 synthetic, 20 otherwise)"),
        ConfigurationOption("seeds", .integerList, "LIST", "student seeds, comma-separated (default 1,2,3)"),
        ConfigurationOption("config", .text, "FILE", "a JSON study configuration (keys as in report.json's \"configuration\"; missing keys keep defaults)"),
        ConfigurationOption("output", .text, "DIR", "run folder to create (default runs/demo-<date>); never overwritten without --force"),
        ConfigurationOption("force", .flag, "", "replace an existing run folder"),
    ]

    static let help = CommandHelp.text(
        "demo", synopsis: "[--quick] [--data DATA] [--test-identities N] [--seeds LIST] [--config FILE] [--output DIR] [--force]",
        summary: "The main job: a teacher, students with and without each transfer family, the cross-resolution comparison and a report\nfolder (report.md, report.json, plots, samples.png).",
        options: options,
        notes: ["The synthetic set: 140 identities (100 train / 40 test), 16 images each, 32×32 RGB."],
        example: "crossres demo --quick --output runs/demo-quick")

    /// The Extended Yale B folder `--data` names (`yaleb`: the default path; `yaleb:PATH`), or
    /// `nil` for other data.
    static func yalePath(_ argument: String?) -> String? {
        guard let argument, argument == "yaleb" || argument.hasPrefix("yaleb:") else { return nil }
        return argument == "yaleb" ? "../shared/data/extended_yale_b_cropped/CroppedYale" : String(argument.dropFirst(6))
    }

    /// The data set named by `--data`, at the study's input size, its name, and its default
    /// number of test identities.
    static func dataset(_ argument: String?, size: Int) throws -> (any FaceDataset, String, Int) {
        guard let argument, argument != "synthetic" else {
            return (SyntheticFaces(identities: 140, imagesPerIdentity: 16, size: size, channels: 3, seed: 42), "synthetic faces", 40)
        }
        if let path = yalePath(argument) {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandLineError("--data \(argument): no folder \(path) (Extended Yale B, cropped: yaleBNN/*.pgm)")
            }
            return (ResizedDataset(try ImageFolderDataset.extendedYaleB(root: URL(fileURLWithPath: path)), size: size), "Extended Yale B", 20)
        }
        let source = try DataSource(parsing: argument)
        return (ResizedDataset(try source.open(), size: size), source.description, 20)
    }

    static func run(_ arguments: [String]) throws {
        let invocation = try CommandLineError.usage { try Invocation(arguments, options: options, help: help) }
        if invocation.helpRequested { print(help); return }
        // Every check of the line and the study configuration is a usage error (status 2).
        let (configuration, study, output, force, dataArgument, inputs) = try CommandLineError.usage {
            let configuration = try ExperimentOptions.configuration(invocation, defaults: CrossResolutionStudy.Configuration(),
                                                                    optionalKeys: CrossResolutionStudy.Configuration.optionalKeys,
                                                                    quick: .quick, seeds: \.seeds)
            let output = try invocation.nonEmpty("output") ?? RunFolderOptions.dated("demo")
            let study = try CrossResolutionStudy(configuration: configuration)
            let dataArgument = try invocation.nonEmpty("data")
            // The folder `yaleb` stands for, so an output inside it is refused.
            let inputs = RunInputs(data: [yalePath(dataArgument) ?? dataArgument, try invocation.nonEmpty("config")].compactMap { $0 })
            return (configuration, study, output, try invocation.bool("force"), dataArgument, inputs)
        }
        try RunFolder.checkCreatable(output, overwrite: force, keeping: inputs)

        let started = Date()
        let (faces, name, defaultTestIdentities) = try dataset(dataArgument, size: configuration.imageSize)
        let asked = try invocation.integer("test-identities"), testIdentities = asked ?? defaultTestIdentities
        // At least two folds' worth of test identities, and at least two left to train a margin head on.
        let fewest = 2 * configuration.verificationFolds, allowed = "\(fewest)...\(faces.identityCount - 2)"
        guard testIdentities >= fewest && testIdentities <= faces.identityCount - 2 else {
            guard faces.identityCount >= fewest + 2 else {
                throw CommandLineError("\(name) has \(faces.identityCount) identities; the demo needs at least \(fewest + 2) (\(fewest) held out for testing, at least 2 to train on)")
            }
            if let asked { throw CommandLineError("--test-identities needs an integer in \(allowed), got \(asked)") }
            throw CommandLineError("\(name) has \(faces.identityCount) identities; the demo holds \(testIdentities) out for testing and "
                                   + "trains on the rest, so it needs more (or pass --test-identities N, N in \(allowed))")
        }
        let (train, test) = try Splits.identityDisjoint(try InMemoryDataset(loading: faces), testIdentities: testIdentities, seed: 42)
        // Data too small for the study's batch or folds: a check of the line, like the ones above (status 2).
        _ = try CommandLineError.usage { try study.check(train: train, test: test) }
        // Created once the inputs are loaded: a failed start leaves no empty folder behind (and an
        // output it replaces is kept until the demo has finished).
        let folder = try RunFolder.creating(output, overwrite: force, keeping: inputs) { folder in
            let sheet = try ContactSheet.image(dataset: train, degradation: Degradation(parsing: configuration.trainingView), count: 24,
                                                 warn: TrainingLoop.standardErrorWarning)
            try sheet.write(to: URL(fileURLWithPath: folder.file("samples.png")))

            let result = try study.run(train: train, test: test,
                                       datasetName: "\(name) (\(train.identityCount) train / \(test.identityCount) test identities, \(configuration.imageSize)×\(configuration.imageSize))")
            let report = StudyReport(result)
            try report.write(to: folder)
            print("\n" + report.markdown)
            return folder
        }
        print(String(format: "demo finished in %.0f s; report in %@", Date().timeIntervalSince(started), folder.path))
    }
}
