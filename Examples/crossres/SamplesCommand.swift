import CrossRes
import Foundation

/// `crossres samples`: a PNG contact sheet of HR images beside their LR views.
enum SamplesCommand {
    static let options: [ConfigurationOption] = [
        ConfigurationOption("data", .text, "DATA", "faces: a folder of identity sub-folders, a .rec file, or synthetic[:…] (required)"),
        ConfigurationOption("degrade", .text, "SPEC", "the LR view (default \(Degradation.defaultSpec), sizes at most the HR images' side; add up=hr to see what a student gets)"),
        ConfigurationOption("output", .text, "FILE.png", "the picture to write (required; replaced only with --force)"),
        ConfigurationOption("count", .integer, "N", "HR/LR pairs, spread evenly over the data (default 24)"),
        ConfigurationOption("columns", .integer, "N", "pairs per row (default 6)"),
        ConfigurationOption("size", .integer, "N", "resize HR images to N×N first (needed when their sizes differ)"),
        ConfigurationOption("seed", .unsignedInteger, "N", "seed of the random degradation (default 0)"),
        ConfigurationOption("force", .flag, "", "replace an existing picture"),
    ]

    static let help = CommandHelp.text(
        "samples", synopsis: "--data DATA --output FILE.png [--degrade SPEC] [options]",
        summary: "Each cell shows an HR image and, right of it, its LR view enlarged with nearest neighbour so LR pixels stay visible.",
        options: options, example: "crossres samples --data synthetic:identities=20,images=8,size=32 --degrade size=12,interp=bicubic --output samples.png")

    /// What the command line asks for, every check done (each a usage error, status 2).
    struct Plan {
        let data: String, output: String
        let count: Int, columns: Int
        /// The `--degrade` spec given (`nil`: the default, fitted to the HR images).
        let degradation: Degradation?
        let size: Int?
        let seed: UInt64

        init(_ invocation: Invocation) throws {
            output = try invocation.required("output")
            guard (output as NSString).pathExtension.lowercased() == "png" else { throw CommandLineError("--output must name a .png file, got '\(output)'") }
            data = try invocation.required("data")
            try OutputPath.check(output, outside: [data])
            if !(try invocation.bool("force")) && FileManager.default.fileExists(atPath: output) {
                throw CommandLineError("\(output) already exists; pass --force to replace it")
            }
            count = try invocation.integer("count") ?? 24
            columns = try invocation.integer("columns") ?? 6
            guard count >= 1 && count <= 10_000 else { throw CommandLineError("--count must be in 1...10000, got \(count)") }
            guard columns >= 1 && columns <= 10_000 else { throw CommandLineError("--columns must be in 1...10000, got \(columns)") }
            do { degradation = try invocation.string("degrade").map(Degradation.init(parsing:)) } catch let error as DatasetError {
                throw CommandLineError("--degrade: \(error)")
            }
            size = try invocation.integer("size")
            if let size, !(4...4096).contains(size) { throw CommandLineError("--size must be in 4...4096, got \(size)") }
            seed = try invocation.seed("seed") ?? 0
        }
    }

    static func run(_ arguments: [String]) throws {
        let invocation = try CommandLineError.usage { try Invocation(arguments, options: options, help: help) }
        if invocation.helpRequested { print(help); return }
        let plan = try CommandLineError.usage { try Plan(invocation) }
        var dataset = try DataSource(parsing: plan.data).open()
        if let size = plan.size { dataset = ResizedDataset(dataset, size: size, channels: 3) }
        let shown = min(plan.count, dataset.count)
        let chosen = InMemoryDataset(samples: try (0..<shown).map { try dataset.sample(at: $0 * dataset.count / shown) }, identityCount: dataset.identityCount)
        let sheet: Image
        // The default fits the HR images; a spec the user gives is checked, not changed.
        let first = shown > 0 ? try chosen.sample(at: 0).image : nil
        let view = plan.degradation ?? Degradation.defaultView(width: first?.width ?? 1, height: first?.height ?? 1)  // (no image: the sheet refuses)
        do {
            sheet = try ContactSheet.image(dataset: chosen, degradation: view, count: shown, columns: plan.columns, seed: plan.seed,
                                           warn: TrainingLoop.standardErrorWarning)
        } catch let error as DatasetError where error.source == "contact sheet" {
            throw CommandLineError("\(error.message) (pass --size N)")  // (the samples are loaded: the sheet's own checks)
        } catch let error as DatasetError {
            throw CommandLineError("--degrade: \(error)")  // a size above the HR images'
        }
        try sheet.write(to: URL(fileURLWithPath: plan.output), format: .png)
        print("wrote \(plan.output): \(shown) HR/LR pairs (\(sheet.width)×\(sheet.height)), LR view \(view)")
    }
}
