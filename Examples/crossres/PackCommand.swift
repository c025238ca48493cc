import CrossRes
import Foundation

/// `crossres pack`: an image folder (or any data argument) → insightface RecordIO `.rec` + `.idx`.
enum PackCommand {
    static let options: [ConfigurationOption] = [
        ConfigurationOption("images", .text, "DIR", "a folder of identity sub-folders (required; any data argument works, e.g. synthetic:identities=20)"),
        ConfigurationOption("output", .text, "FILE.rec", "the RecordIO file to write (required); its .idx is written beside it"),
        ConfigurationOption("format", .text, "NAME", "image encoding in the records: jpeg or png (default jpeg)"),
        ConfigurationOption("quality", .integer, "N", "JPEG quality 1...100 (default 95)"),
        ConfigurationOption("pairs", .text, "FILE.bin", "also write LFW-style verification pairs (10 folds) as an insightface .bin"),
        ConfigurationOption("pairs-per-fold", .integer, "N", "pairs per fold for --pairs (default: the most of 600, 300, 200, 100, 50, 20 the images allow)"),
        ConfigurationOption("seed", .unsignedInteger, "N", "seed of the --pairs drawing (default 7)"),
        ConfigurationOption("force", .flag, "", "replace existing output files"),
    ]

    static let help = CommandHelp.text(
        "pack", synopsis: "--images DIR --output FILE.rec [options]",
        summary: "Writes the images in insightface's layout (header record, image records grouped by identity, identity records), readable\nby insightface's MXFaceDataset and by --data FILE.rec. Files are written atomically and never replaced without --force.",
        options: options, example: "crossres pack --images faces/ --output faces.rec --pairs faces.bin")

    /// What the command line asks for, every check done (each a usage error, status 2).
    struct Plan {
        let images: String
        let format: ImageFormat
        let quality: Int
        let rec: URL, idx: URL
        let pairsPath: String?
        let pairsPerFold: Int?
        let seed: UInt64

        init(_ invocation: Invocation) throws {
            images = try invocation.required("images")
            let output = try invocation.required("output"), force = try invocation.bool("force")
            switch try invocation.string("format") ?? "jpeg" {
            case "jpeg", "jpg": format = .jpeg
            case "png": format = .png
            case let other: throw CommandLineError("--format must be jpeg or png, got '\(other)'")
            }
            let askedQuality = try invocation.integer("quality")
            quality = askedQuality ?? 95
            guard (1...100).contains(quality) else { throw CommandLineError("--quality must be in 1...100, got \(quality)") }
            if format == .png && askedQuality != nil { throw CommandLineError("--quality sets JPEG's quality; PNG is lossless") }
            guard (output as NSString).pathExtension.lowercased() == "rec" else { throw CommandLineError("--output must name a .rec file, got '\(output)'") }
            rec = URL(fileURLWithPath: output)
            idx = rec.deletingPathExtension().appendingPathExtension("idx")
            pairsPath = try invocation.string("pairs")
            pairsPerFold = try invocation.integer("pairs-per-fold")
            let askedSeed = try invocation.seed("seed")
            seed = askedSeed ?? 7
            if pairsPath == nil, pairsPerFold != nil || askedSeed != nil {
                throw CommandLineError("--pairs-per-fold and --seed draw the pairs of --pairs, which is not given")
            }
            if let pairsPerFold, pairsPerFold < 2 {
                throw CommandLineError("--pairs-per-fold must be at least 2, got \(pairsPerFold)")
            }
            var targets = [rec.path, idx.path]
            if let pairsPath {
                // insightface's verification files are .bin; any other name could be a .rec or .idx (this one's, or another set's).
                guard (pairsPath as NSString).pathExtension.lowercased() == "bin" else {
                    throw CommandLineError("--pairs must name a .bin file (insightface's verification format), got '\(pairsPath)'")
                }
                targets.append(pairsPath)
            }
            // The output must not be what is read (`--images x.rec --output x.rec --force` would replace it while reading it),
            // nor be written into an image folder read (the next run would read it as a face).
            let input = images.trimmingCharacters(in: .whitespaces)
            let inputs = (input as NSString).pathExtension.lowercased() == "rec"
                ? [images, (input as NSString).deletingPathExtension + ".idx"] : [images]
            for target in targets { try OutputPath.check(target, outside: inputs) }
            if !force, let existing = targets.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw CommandLineError("\(existing) already exists; pass --force to replace it")
            }
        }
    }

    static func run(_ arguments: [String]) throws {
        let invocation = try CommandLineError.usage { try Invocation(arguments, options: options, help: help) }
        if invocation.helpRequested { print(help); return }
        let plan = try CommandLineError.usage { try Plan(invocation) }

        let source = try DataSource(parsing: plan.images)
        let dataset = try source.open()
        print("packing \(dataset.count) images of \(dataset.identityCount) identities from \(source) as \(plan.format.rawValue)…")
        // (Drawn before anything is written: images too few for the pairs leave no files.)
        let pairs = try plan.pairsPath.map { _ in
            try CrossResolutionEvaluation.drawPairs(labels: dataset.labels, perFold: plan.pairsPerFold, seed: plan.seed)
        }
        let leftovers = RecordIOWriter.removeLeftovers(rec: plan.rec, idx: plan.idx)
        for (leftover, bytes) in leftovers.removed {
            TrainingLoop.standardErrorWarning(String(format: "removed %@ (%.1f MB, hidden), left by an interrupted pack of the same output", leftover.path, Double(bytes) / 1e6))
        }
        for (leftover, bytes) in leftovers.kept {  // (another pack may be writing it)
            TrainingLoop.standardErrorWarning(String(format: "%@ (%.1f MB, hidden) may be being written by another pack of the same output (it is locked, or changed in the last %.0f s); kept", leftover.path, Double(bytes) / 1e6, RecordIOWriter.staleAge))
        }
        try RecordIODataset.write(dataset, rec: plan.rec, idx: plan.idx, format: plan.format, quality: plan.quality)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: plan.rec.path)[.size] as? Int) ?? 0
        print(String(format: "wrote %@ (%.1f MB) and %@", plan.rec.path, Double(bytes) / 1e6, plan.idx.path))
        if let pairsPath = plan.pairsPath, let pairs {
            try VerificationBin(dataset: dataset, pairs: pairs, format: plan.format, quality: plan.quality).write(to: URL(fileURLWithPath: pairsPath))
            print("wrote \(pairsPath): \(pairs.pairs.count) verification pairs in 10 folds")
        }
    }
}
