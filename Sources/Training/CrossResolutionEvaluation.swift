import Foundation
import Tensor
import Layers
import Datasets
import Evaluation

/// The settings of `crossres evaluate`: the model under test (the probe model, usually a
/// student), an optional gallery model (the teacher, for the cross-model mode), the faces and
/// the probe sizes.
public struct EvaluationConfiguration: RunConfiguration, Sendable {
    /// The probe model's weights: a `.safetensors` file or a run folder (required).
    public var weights: String?
    /// Model name and sizes, for weights without CrossRes metadata.
    public var model: String?
    public var embeddingSize: Int?
    public var inputSize: Int?
    /// The gallery model (teacher) for the cross-model mode (teacher-HR gallery vs student-LR probe).
    public var teacherWeights: String?
    public var teacherModel: String?
    public var teacherEmbeddingSize: Int?
    public var teacherInputSize: Int?
    /// Test faces (``DataSource``): LFW-style pairs are drawn from it unless ``pairs`` is given,
    /// and it is the identification set (first image of each identity in the gallery).
    public var data: String?
    /// An insightface verification `.bin` (pairs to verify instead of pairs drawn from ``data``).
    public var pairs: String?
    /// Pairs per fold (10 folds) drawn from ``data``; `nil`: the most of 600, 300, 200, 100, 50, 20 the data allows.
    public var pairsPerFold: Int?
    /// Probe sizes in pixels (each probe bicubic down, then bicubic back up to the input size);
    /// `nil`: those of ``defaultSizes`` below the model's input side (the side itself is the
    /// native row of every report).
    public var sizes: [Int]?
    /// The probe sizes evaluated when none are given (as far as the model's input side allows).
    public static let defaultSizes = [8, 12, 16, 20, 24]
    /// Seed of the drawn pairs.
    public var seed: UInt64 = 7

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case weights, model, embeddingSize = "embedding-size", inputSize = "input-size", teacherWeights = "teacher-weights"
        case teacherModel = "teacher-model", teacherEmbeddingSize = "teacher-embedding-size", teacherInputSize = "teacher-input-size"
        case data, pairs, pairsPerFold = "pairs-per-fold", sizes, seed
    }

    public static let options: [ConfigurationOption] = [
        ConfigurationOption("weights", .text, "PATH", "weights of the model under test: a run folder or a .safetensors file (required)"),
        ConfigurationOption("model", .text, "NAME", "its model, for weights without CrossRes metadata (\(ModelFactory.names))"),
        ConfigurationOption("embedding-size", .integer, "N", "its embedding dimension, for weights without metadata"),
        ConfigurationOption("input-size", .integer, "N", "its input side, for weights without metadata"),
        ConfigurationOption("teacher-weights", .text, "PATH", "gallery model (teacher) for the cross-model mode: a run folder or a .safetensors file"),
        ConfigurationOption("teacher-model", .text, "NAME", "the teacher's model, for weights without metadata"),
        ConfigurationOption("teacher-embedding-size", .integer, "N", "the teacher's embedding dimension, for weights without metadata"),
        ConfigurationOption("teacher-input-size", .integer, "N", "the teacher's input side, for weights without metadata"),
        ConfigurationOption("data", .text, "DATA", "test faces (identities unseen in training): a folder, a .rec file, or synthetic[:…]"),
        ConfigurationOption("pairs", .text, "FILE.bin", "insightface verification pairs to use instead of pairs drawn from --data"),
        ConfigurationOption("pairs-per-fold", .integer, "N", "pairs per fold drawn from --data, 10 folds (default: the most of 600, 300, 200, 100, 50, 20 it allows)"),
        ConfigurationOption("sizes", .integerList, "LIST", "probe sizes in pixels (default 8,12,16,20,24: those below the model's input side)"),
        ConfigurationOption("seed", .unsignedInteger, "N", "seed of the pairs drawn from --data"),
    ]

    public static let pathKeys = ["weights", "teacher-weights", "data", "pairs"]
    public static let modelPathKeys = ["weights", "teacher-weights"]

    public func validate() throws {
        guard let weights, !weights.isEmpty else { throw TrainingError.invalidConfiguration("'weights' is required (a run folder or a .safetensors file)") }
        guard data != nil || pairs != nil else { throw TrainingError.invalidConfiguration("give 'data' (test faces), 'pairs' (a verification .bin), or both") }
        if let data { _ = try DataSource(parsing: data) }
        if let pairs, !FileManager.default.fileExists(atPath: pairs) { throw TrainingError.invalidConfiguration("pairs \(pairs): no such file") }
        for name in [model, teacherModel].compactMap({ $0 }) { _ = try ModelFactory.model(named: name) }
        if let sizes {
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 2 }) else { throw TrainingError.invalidConfiguration("'sizes' must be probe sizes of at least 2 pixels, got \(sizes)") }
            guard Set(sizes).count == sizes.count else { throw TrainingError.invalidConfiguration("'sizes' lists a size twice: \(sizes)") }
        }
        if let pairsPerFold, pairsPerFold < 2 { throw TrainingError.invalidConfiguration("'pairs-per-fold' must be at least 2, got \(pairsPerFold)") }
        // Settings that would be silently ignored are errors: the user meant something by them.
        if pairs != nil && pairsPerFold != nil {
            throw TrainingError.invalidConfiguration("'pairs-per-fold' draws pairs from 'data'; the pairs of 'pairs' \(pairs!) are fixed (drop one of them)")
        }
        if pairs != nil && seed != Self().seed {
            throw TrainingError.invalidConfiguration("'seed' draws pairs from 'data'; the pairs of 'pairs' \(pairs!) are fixed (drop one of them)")
        }
        if teacherWeights == nil, let given = [("teacher-model", teacherModel != nil), ("teacher-embedding-size", teacherEmbeddingSize != nil),
                                                ("teacher-input-size", teacherInputSize != nil)].first(where: { $0.1 }) {
            throw TrainingError.invalidConfiguration("'\(given.0)' describes the gallery model of 'teacher-weights', which is not given")
        }
    }
}

/// The cross-resolution sweep of trained weights (`crossres evaluate`): verification
/// (10-fold accuracy, ROC, TAR@FAR) on a `.bin` or on LFW-style pairs drawn from the test faces,
/// and rank-k identification against an HR gallery, at every probe size and natively, in the
/// modes LR-vs-LR, HR-vs-LR and — with a teacher — teacher-HR gallery vs student-LR probe.
/// Writes `report.md`, `report.json` and SVG plots into a new folder.
public struct CrossResolutionEvaluation {
    public let configuration: EvaluationConfiguration
    public var say: (String) -> Void = { print($0) }
    /// Where warnings about the report folder go (an earlier output it could not remove; default: standard error).
    public var warn: (String) -> Void = TrainingLoop.standardErrorWarning

    public init(configuration: EvaluationConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Everything an evaluation produced (its `report.json`).
    public struct Report: Codable, Sendable {
        public var model: BackboneConfiguration
        public var weights: String
        public var teacher: BackboneConfiguration?
        public var teacherWeights: String?
        public var data: String?
        public var pairs: String?
        public var verification: SweepReport?
        public var identification: SweepReport?
    }

    @discardableResult
    public func run(output: String, overwrite: Bool = false) throws -> Report {
        let c = configuration
        let inputs = c.inputs
        try RunFolder.checkCreatable(output, overwrite: overwrite, keeping: inputs)
        let (probe, architecture) = try ModelFactory.load(weights: c.weights!, name: c.model, embeddingSize: c.embeddingSize, inputSize: c.inputSize)
        var gallery: (model: any FeatureExtractor, configuration: BackboneConfiguration)?
        if let teacherWeights = c.teacherWeights {
            gallery = try ModelFactory.load(weights: teacherWeights, name: c.teacherModel, embeddingSize: c.teacherEmbeddingSize, inputSize: c.teacherInputSize)
            guard gallery!.configuration.inputSize == architecture.inputSize else {
                throw TrainingError.invalidConfiguration("the cross-model mode embeds one image set with both models, so they need one input size: teacher \(gallery!.configuration.inputSize), model \(architecture.inputSize)")
            }
        }
        let size = architecture.inputSize
        let sizes = c.sizes ?? EvaluationConfiguration.defaultSizes.filter { $0 < size }  // (the input side itself is "native")
        guard !sizes.isEmpty && sizes.allSatisfy({ $0 <= size }) else {
            throw TrainingError.invalidConfiguration("probe sizes \(c.sizes ?? EvaluationConfiguration.defaultSizes) must not exceed the model's \(size)-pixel input\(c.sizes == nil ? "; give 'sizes'" : "")")
        }
        probe.eval()
        gallery?.model.eval()

        let data = try c.data.map { try DataSource(parsing: $0) }
        let test = try data.map { ResizedDataset(try $0.open(), size: size) }
        var verificationSet: EvaluationSet?
        if let pairs = c.pairs {
            let bin = try VerificationBin(contentsOf: URL(fileURLWithPath: pairs))
            guard bin.pairCount >= 10 else {
                throw TrainingError.invalidConfiguration("\(pairs): \(bin.pairCount) verification pairs cannot fill 10 folds (need at least one pair per fold)")
            }
            let samples = try (0..<2 * bin.pairCount).map { i in
                Sample(image: try bin.image(at: i), label: i % 2 == 1 && bin.isSame[i / 2] ? i - 1 : i)
            }
            verificationSet = try EvaluationSet(test: ResizedDataset(InMemoryDataset(samples: samples), size: size), pairs: bin.pairList(), imageSize: size)
            say("verification: \(bin.pairCount) pairs from \(pairs)")
        } else if let test {
            let pairs = try Self.drawPairs(labels: test.labels, perFold: c.pairsPerFold, seed: c.seed)
            verificationSet = try EvaluationSet(test: test, pairs: pairs, imageSize: size)
            say("verification: \(pairs.pairs.count) LFW-style pairs (10 folds) drawn from \(test.count) images of \(test.identityCount) identities")
        }
        let identificationSet = try test.map { try EvaluationSet(test: $0, pairs: PairList(pairs: [], foldCount: 10), imageSize: size) }

        let galleryModel = gallery?.model
        let verification = try verificationSet?.verification(probe: probe, gallery: galleryModel, sizes: sizes)
        let identification = try identificationSet?.identification(probe: probe, gallery: galleryModel, sizes: sizes)
        let report = Report(model: architecture, weights: ModelFactory.weightsFile(c.weights!), teacher: gallery?.configuration,
                            teacherWeights: c.teacherWeights.map(ModelFactory.weightsFile), data: data?.description, pairs: c.pairs,
                            verification: verification, identification: identification)
        let folder = try RunFolder.creating(output, overwrite: overwrite, keeping: inputs, warn: warn) { folder in
            try Self.write(report, to: folder)
            return folder
        }
        say(Self.markdown(report))
        say("report in \(folder.path)")
        return report
    }

    /// LFW-style pairs in 10 folds: `perFold` per fold, or the most of 600, 300, 200, 100, 50,
    /// 20 the labels allow.
    public static func drawPairs(labels: [Int], perFold: Int?, seed: UInt64) throws -> PairList {
        if let perFold { return try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: perFold, seed: seed) }
        var lastError: (any Error)?
        for candidate in [600, 300, 200, 100, 50, 20] {
            do { return try PairList.lfwStyle(labels: labels, folds: 10, pairsPerFold: candidate, seed: seed) } catch { lastError = error }
        }
        throw TrainingError.invalidConfiguration("cannot draw 10 folds of verification pairs from the test data: \(lastError.map { "\($0)" } ?? "")")
    }

    /// The report as Markdown: the models and data, then the sweep tables.
    public static func markdown(_ report: Report) -> String {
        var lines = ["# Cross-resolution evaluation", "",
                     "- model: \(report.model) from `\(report.weights)`"]
        if let teacher = report.teacher, let weights = report.teacherWeights { lines.append("- gallery model (teacher): \(teacher) from `\(weights)`") }
        if let data = report.data { lines.append("- test data: `\(data)`") }
        if let pairs = report.pairs { lines.append("- verification pairs: `\(pairs)`") }
        lines.append("- probes: bicubic down to each size (antialiased), bicubic back up to \(report.model.inputSize) px")
        lines.append("")
        if let v = report.verification { lines.append(MarkdownReport.sweep(v, title: "Verification")) }
        if let i = report.identification { lines.append(MarkdownReport.sweep(i, title: "Identification")) }
        return lines.joined(separator: "\n")
    }

    /// Writes `report.md`, `report.json` and a plot of each sweep the report holds:
    /// `verification.svg`, and `identification.svg` (only with test data, not from pairs alone).
    public static func write(_ report: Report, to folder: RunFolder) throws {
        try ReportWriter.write(markdown(report), to: URL(fileURLWithPath: folder.file("report.md")))
        try ReportWriter.writeJSON(report, to: URL(fileURLWithPath: folder.file("report.json")))
        if let v = report.verification {
            try Plots.accuracyVersusResolution([("", v)], title: "Verification accuracy against probe size")
                .write(to: URL(fileURLWithPath: folder.file("verification.svg")))
        }
        if let i = report.identification {
            try Plots.accuracyVersusResolution([("", i)], title: "Rank-1 identification against probe size")
                .write(to: URL(fileURLWithPath: folder.file("identification.svg")))
        }
    }
}
