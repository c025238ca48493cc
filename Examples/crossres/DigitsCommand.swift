import CrossRes
import Foundation

/// `crossres digits`: ADDA's MNIST ↔ USPS experiment (source only, ADDA, gradient reversal)
/// with the table beside the paper's.
enum DigitsCommand {
    static let options: [ConfigurationOption] = [
        ConfigurationOption("quick", .flag, "", "a smoke run well under a minute (one seed, a few dozen steps)"),
        ConfigurationOption("data", .text, "DIR", "folder with mnist/, mnist_5k/ and usps/ (default ../shared/data)"),
        ConfigurationOption("directions", .text, "LIST", "mnist-usps and/or usps-mnist (default both)"),
        ConfigurationOption("methods", .text, "LIST", "source-only, adda and/or dann (default all)"),
        ConfigurationOption("curve", .integer, "N", "also evaluate the target test set every N steps (learning curves in result.json)"),
        ConfigurationOption("seeds", .integerList, "LIST", "seeds, comma-separated (default 1,2,3)"),
        ConfigurationOption("config", .text, "FILE", "a JSON configuration (keys as in result.json's \"configuration\"; missing keys keep defaults)"),
        ConfigurationOption("output", .text, "DIR", "run folder to create (default runs/digits-<date>); never overwritten without --force"),
        ConfigurationOption("force", .flag, "", "replace an existing run folder"),
    ]

    static let help = CommandHelp.text(
        "digits", synopsis: "[--quick] [--data DIR] [--directions LIST] [--methods LIST] [--seeds LIST] [--output DIR] [options]",
        summary: "ADDA's digits experiment (Tzeng et al., CVPR 2017, Table 2): LeNet on 2000 MNIST and 1800 USPS training digits (drawn\nper seed; USPS 16x16 brought up to 28x28), tested on the target test set; source only, ADDA and gradient reversal (DANN),\nmean ± std over the seeds beside the paper's numbers.",
        options: options,
        notes: ["Writes report.md, result.json and logs/ (JSON lines per training stage) into the run folder.",
                "Use a release build; CROSSRES_THREADS limits the threads."],
        example: "crossres digits --quick --output runs/digits-quick")

    static func run(_ arguments: [String]) throws {
        let invocation = try CommandLineError.usage { try Invocation(arguments, options: options, help: help) }
        if invocation.helpRequested { print(help); return }
        // Every check of the line and the experiment configuration is a usage error (status 2).
        let (experiment, dataFolder, output, force, inputs) = try CommandLineError.usage {
            var configuration = try ExperimentOptions.configuration(invocation, defaults: DigitsExperiment.Configuration(),
                                                                    quick: .quick, seeds: \.seeds)
            if let list = try invocation.string("directions") { configuration.directions = try parseList(list, "--directions") }
            if let list = try invocation.string("methods") { configuration.methods = try parseList(list, "--methods") }
            if let every = try invocation.integer("curve") {
                guard every >= 1 else { throw CommandLineError("--curve needs a positive number of steps, got \(every)") }
                configuration.curveEvery = every
            }
            let experiment = try DigitsExperiment(configuration: configuration)
            let dataFolder = try invocation.nonEmpty("data") ?? "../shared/data"
            let output = try invocation.nonEmpty("output") ?? RunFolderOptions.dated("digits")
            let inputs = RunInputs(data: [dataFolder, try invocation.nonEmpty("config")].compactMap { $0 })
            return (experiment, dataFolder, output, try invocation.bool("force"), inputs)
        }
        try RunFolder.checkCreatable(output, overwrite: force, keeping: inputs)  // before the data are loaded
        let started = Date()
        let data: DigitsData
        do { data = try experiment.loadData(folder: dataFolder) } catch let error as DigitsDataError where error.kind == .missingFile {
            throw CommandLineError("\(error)\n(set --data DIR to the folder that holds them)")
        }
        print(String(format: "loaded digits from %@ in %.1f s: MNIST %d train / %d test, USPS %d train / %d test", dataFolder,
                     Date().timeIntervalSince(started), data.mnistTrain.count, data.mnistTest.count, data.uspsTrain.count, data.uspsTest.count))
        do { try experiment.check(data) } catch let error as TrainingError { throw CommandLineError("\(error)") }

        let folder = try RunFolder.creating(output, overwrite: force, keeping: inputs) { folder in  // an output replaced is kept until the run ends
            var runner = experiment
            runner.logFolder = folder.file("logs")
            try FileManager.default.createDirectory(atPath: folder.file("logs"), withIntermediateDirectories: true)
            let result = try runner.run(data: data)
            try result.write(to: folder)
            print("\n" + result.markdown)
            return folder
        }
        print(String(format: "digits finished in %.0f s; report in %@", Date().timeIntervalSince(started), folder.path))
    }

    /// Comma-separated raw values of a string enum, each checked.
    private static func parseList<T: RawRepresentable & CaseIterable>(_ text: String, _ flag: String) throws -> [T] where T.RawValue == String {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = names.map { T(rawValue: $0) }
        guard !names.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw CommandLineError("\(flag): expected a comma-separated list of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return values.map { $0! }
    }
}
