import CrossRes
import Foundation

/// `crossres digits`: ADDA's MNIST ↔ USPS experiment (source only, ADDA, gradient reversal)
/// with the table beside the paper's.
enum DigitsCommand {
    static let help = """
        usage: crossres digits [--quick] [--seeds 1,2,3] [--output DIR] [--force] [--data DIR] [--config FILE]
                               [--directions mnist-usps,usps-mnist] [--methods source-only,adda,dann] [--curve N]
        ADDA's digits experiment (Tzeng et al., CVPR 2017, Table 2): LeNet on 2000 MNIST and 1800 USPS training
        digits (drawn per seed; USPS 16x16 brought up to 28x28), tested on the target test set; source only,
        ADDA and gradient reversal (DANN), mean ± std over the seeds beside the paper's numbers.
          --quick            a smoke run well under a minute (one seed, a few dozen steps)
          --seeds LIST       seeds, comma-separated (default 1,2,3)
          --output DIR       run folder to create (default runs/digits-<date>); never overwritten without --force
          --force            replace an existing run folder
          --data DIR         folder with mnist/, mnist_5k/ and usps/ (default ../shared/data)
          --config FILE      a JSON configuration (keys as in result.json's "configuration"; missing keys keep defaults)
          --directions LIST  mnist-usps and/or usps-mnist (default both)
          --methods LIST     source-only, adda and/or dann (default all)
          --curve N          also evaluate the target test set every N steps (learning curves in result.json)
        Writes report.md, result.json and logs/ (JSON lines per training stage) into the run folder.
        Use a release build; CROSSRES_THREADS limits the threads.
        """

    static func run(_ arguments: [String]) throws {
        let options = try CommandOptions(arguments, flags: ["--quick", "--force"],
                                         values: ["--output", "--seeds", "--data", "--config", "--directions", "--methods", "--curve"], help: help)
        if options.helpRequested { print(help); return }
        var configuration = options.flag("--quick") ? DigitsExperiment.Configuration.quick : DigitsExperiment.Configuration()
        if let path = options.value("--config") { configuration = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: configuration,
                                                                                            layers: [ConfigurationLayer(contentsOf: path)]) }
        if let seeds = options.value("--seeds") {
            let parsed = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw CommandLineError("--seeds needs comma-separated non-negative integers, got '\(seeds)'") }
            configuration.seeds = parsed.map { $0! }
        }
        if let list = options.value("--directions") { configuration.directions = try parseList(list, "--directions") }
        if let list = options.value("--methods") { configuration.methods = try parseList(list, "--methods") }
        if let text = options.value("--curve") {
            guard let every = Int(text), every >= 1 else { throw CommandLineError("--curve needs a positive number of steps, got '\(text)'") }
            configuration.curveEvery = every
        }
        let experiment: DigitsExperiment
        do { experiment = try DigitsExperiment(configuration: configuration) } catch let error as TrainingError {
            throw CommandLineError("\(error)")
        }

        let dataFolder = options.value("--data") ?? "../shared/data"
        let started = Date()
        let data: DigitsData
        do { data = try experiment.loadData(folder: dataFolder) } catch let error as DigitsDataError where error.kind == .missingFile {
            throw CommandLineError("\(error)\n(set --data DIR to the folder that holds them)")
        }
        print(String(format: "loaded digits from %@ in %.1f s: MNIST %d train / %d test, USPS %d train / %d test", dataFolder,
                     Date().timeIntervalSince(started), data.mnistTrain.count, data.mnistTest.count, data.uspsTrain.count, data.uspsTest.count))

        let output = options.value("--output") ?? "runs/digits-" + ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let folder = try RunFolder(creating: output, overwrite: options.flag("--force"))
        var runner = experiment
        runner.logFolder = folder.file("logs")
        try FileManager.default.createDirectory(atPath: folder.file("logs"), withIntermediateDirectories: true)
        let result = try runner.run(data: data)
        try result.write(to: folder)
        print("\n" + result.markdown)
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
