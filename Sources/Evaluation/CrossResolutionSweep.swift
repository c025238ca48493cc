import Tensor

/// The probe image size of one column of a cross-resolution table.
public enum ProbeResolution: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Degraded to `s × s` pixels (the image source decides whether it is upsampled back).
    case pixels(Int)
    /// The undegraded (HR) image.
    case native

    /// The cross-resolution literature's sizes: 8, 12, 16, 20, 24, 32 and native.
    public static let standard: [ProbeResolution] = [8, 12, 16, 20, 24, 32].map { .pixels($0) } + [.native]

    public var description: String {
        switch self {
        case .pixels(let s): "\(s)"
        case .native: "native"
        }
    }

    /// Encoded as the pixel count, or the string `"native"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let s = try? container.decode(Int.self) {
            guard s >= 1 else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "probe size \(s) must be positive") }
            self = .pixels(s)
        } else if try container.decode(String.self) == "native" {
            self = .native
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a probe resolution is a pixel count or \"native\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .pixels(let s): try container.encode(s)
        case .native: try container.encode("native")
        }
    }
}

/// How the two sides of a comparison are produced in a cross-resolution sweep.
public enum SweepMode: String, Codable, CaseIterable, Sendable {
    /// Both sides degraded to the probe size, both embedded by the probe model.
    case lrVsLr = "lr-vs-lr"
    /// HR gallery side and degraded probe side, both embedded by the probe model.
    case hrVsLr = "hr-vs-lr"
    /// HR gallery side embedded by the gallery model (teacher), degraded probe side by the probe
    /// model (student): the deployment case that only works when transfer aligned the spaces.
    case crossModel = "cross-model"

    /// Column heading used in reports and plot legends.
    public var title: String {
        switch self {
        case .lrVsLr: "LR-vs-LR"
        case .hrVsLr: "HR-vs-LR"
        case .crossModel: "teacher-HR vs student-LR"
        }
    }
}

/// Which side of a comparison an image set belongs to: the gallery (first image of each
/// verification pair, or the enrolled gallery) or the probe (second image, or the queries).
public enum SweepSide: String, Codable, Sendable {
    case gallery, probe
}

/// What a sweep scores at every resolution.
public enum SweepTask {
    /// Verification pairs: gallery and probe sources both hold one image per pair.
    case verification(issame: [Bool])
    /// Closed-set identification: a labelled gallery and labelled probes.
    case identification(galleryLabels: [Int], probeLabels: [Int])
}

/// The table every cross-resolution paper reports, plus the cross-model column.
///
/// For each probe resolution and mode the sweep embeds what that mode needs (each embedding set
/// is computed once and shared between modes) and scores it with ``Verification`` or
/// ``Identification``. Images come from a closure `(side, resolution) → ImageSource`, so any
/// degradation family (bicubic with antialias, nearest, blur + noise, …) plugs in; at `.native`
/// it must return the undegraded images.
///
/// ```swift
/// // faces: SyntheticFaces (through `any FaceDataset`, write `try faces.sample(at:)`); student, teacher: networks.
/// let pairs = try PairList.lfwStyle(labels: faces.labels, folds: 10, pairsPerFold: 20, seed: 1)
/// let sweep = CrossResolutionSweep(resolutions: [.pixels(8), .pixels(16), .native])
/// let report = try sweep.run(.verification(issame: pairs.pairs.map(\.isSame)),
///                            probeModel: inferenceModel(student), galleryModel: inferenceModel(teacher)) { side, resolution in
///     let indices = pairs.pairs.map { side == .gallery ? $0.first : $0.second }
///     let images = indices.map { faces.sample(at: $0).image }
///     guard case .pixels(let size) = resolution else { return ImageSource(Image.batchTensor(images)) }
///     let degradation = try Degradation(parsing: "size=\(size),interp=bicubic,up=hr")
///     var generator = RandomGenerator(seed: 0)
///     return ImageSource(Image.batchTensor(images.map { degradation.apply(to: $0, using: &generator) }))
/// }
/// ```
public struct CrossResolutionSweep: Codable, Equatable, Sendable {
    /// Probe sizes, in table order.
    public var resolutions: [ProbeResolution]
    /// Modes to run; ``SweepMode/crossModel`` is skipped when no gallery model is given (it would
    /// equal ``SweepMode/hrVsLr``).
    public var modes: [SweepMode]
    /// Batching and flip test-time augmentation.
    public var extractor: EmbeddingExtractor
    /// The verification protocol.
    public var verification: VerificationSettings
    /// Ranks reported for identification.
    public var ranks: [Int]
    /// Length of the CMC curve.
    public var maxRank: Int

    public init(resolutions: [ProbeResolution] = ProbeResolution.standard, modes: [SweepMode] = SweepMode.allCases,
                extractor: EmbeddingExtractor = EmbeddingExtractor(), verification: VerificationSettings = VerificationSettings(),
                ranks: [Int] = [1, 5, 10], maxRank: Int = 50) {
        self.resolutions = resolutions
        self.modes = modes
        self.extractor = extractor
        self.verification = verification
        self.ranks = ranks
        self.maxRank = maxRank
    }

    /// Runs the sweep.
    ///
    /// - Parameters:
    ///   - task: verification pairs or an identification gallery/probe split.
    ///   - probeModel: embeds the probe side in every mode, and the gallery side except in the
    ///     cross-model mode (the student).
    ///   - galleryModel: embeds the HR gallery in the cross-model mode (the teacher).
    ///   - metadata: free-form settings stored in the report (degradation spec, checkpoints…).
    ///   - progress: called with a line per evaluated cell.
    ///   - images: the gallery or probe images at a resolution.
    public func run(_ task: SweepTask, probeModel: EmbeddingModel, galleryModel: EmbeddingModel? = nil,
                    metadata: [String: String] = [:], progress: ((String) -> Void)? = nil,
                    images: (SweepSide, ProbeResolution) throws -> ImageSource) throws -> SweepReport {
        guard !resolutions.isEmpty, !modes.isEmpty else {
            throw EvaluationError(.invalidArgument, "sweep: no resolutions or no modes to evaluate")
        }
        if case .pixels(let s) = resolutions.first(where: { if case .pixels(let s) = $0 { s < 1 } else { false } }) {
            throw EvaluationError(.invalidArgument, "sweep: probe size \(s) must be positive")
        }
        let modesRun = modes.filter { $0 != .crossModel || galleryModel != nil }
        var cache: [EmbeddingKey: Tensor] = [:]
        func embeddings(_ side: SweepSide, _ resolution: ProbeResolution, byGalleryModel: Bool) throws -> Tensor {
            let key = EmbeddingKey(side: side, resolution: resolution, galleryModel: byGalleryModel)
            if let cached = cache[key] { return cached }
            let source = try images(side, resolution)
            let value = if byGalleryModel, let galleryModel { try extractor.embeddings(of: source, model: galleryModel) }
                        else { try extractor.embeddings(of: source, model: probeModel) }
            cache[key] = value
            return value
        }
        var entries: [SweepEntry] = []
        for resolution in resolutions {
            for mode in modesRun {
                let galleryResolution: ProbeResolution = mode == .lrVsLr ? resolution : .native
                let gallery = try embeddings(.gallery, galleryResolution, byGalleryModel: mode == .crossModel)
                let probes = try embeddings(.probe, resolution, byGalleryModel: false)
                let entry: SweepEntry
                switch task {
                case .verification(let issame):
                    guard gallery.shape[0] == issame.count, probes.shape[0] == issame.count else {
                        throw EvaluationError(.mismatchedInput,
                                              "sweep: \(gallery.shape[0]) gallery and \(probes.shape[0]) probe images at \(resolution) for \(issame.count) pairs")
                    }
                    let result = try Verification.evaluate(first: gallery, second: probes, issame: issame, settings: verification)
                    entry = SweepEntry(mode: mode, resolution: resolution, verification: result, identification: nil)
                    progress?("\(mode.title) @ \(resolution): accuracy \(result.kFold.meanAccuracy) ± \(result.kFold.standardDeviation)")
                case .identification(let galleryLabels, let probeLabels):
                    let result = try Identification.evaluate(gallery: gallery, galleryLabels: galleryLabels,
                                                             probes: probes, probeLabels: probeLabels,
                                                             ranks: ranks, maxRank: maxRank)
                    entry = SweepEntry(mode: mode, resolution: resolution, verification: nil, identification: result)
                    progress?("\(mode.title) @ \(resolution): rank-1 \(result.rate(atRank: 1))")
                }
                entries.append(entry)
            }
        }
        let taskName = if case .verification = task { "verification" } else { "identification" }
        return SweepReport(settings: self, task: taskName, modes: modesRun, metadata: metadata, entries: entries)
    }
}

private struct EmbeddingKey: Hashable {
    let side: SweepSide
    let resolution: ProbeResolution
    let galleryModel: Bool
}

/// One cell of a sweep: a mode at a probe resolution.
public struct SweepEntry: Codable, Equatable, Sendable {
    public let mode: SweepMode
    public let resolution: ProbeResolution
    /// Set for a verification sweep.
    public let verification: VerificationResult?
    /// Set for an identification sweep.
    public let identification: IdentificationResult?

    /// The headline number: k-fold accuracy, or rank-1 rate.
    public var headline: Double {
        verification?.kFold.meanAccuracy ?? identification!.rate(atRank: 1)
    }
}

extension SweepEntry {
    /// Decodes an entry, which must hold exactly one of the two results (a report file with
    /// neither or both is corrupt, not a report to render).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let verification = try container.decodeIfPresent(VerificationResult.self, forKey: .verification)
        let identification = try container.decodeIfPresent(IdentificationResult.self, forKey: .identification)
        guard (verification == nil) != (identification == nil) else {
            throw DecodingError.dataCorruptedError(forKey: .verification, in: container,
                                                   debugDescription: "a sweep entry holds either a verification or an identification result")
        }
        self.init(mode: try container.decode(SweepMode.self, forKey: .mode), resolution: try container.decode(ProbeResolution.self, forKey: .resolution),
                  verification: verification, identification: identification)
    }
}

/// Everything a sweep produced, with the settings that produced it.
public struct SweepReport: Codable, Equatable, Sendable {
    public let settings: CrossResolutionSweep
    /// `"verification"` or `"identification"`.
    public let task: String
    /// The modes actually run.
    public let modes: [SweepMode]
    /// Caller-provided settings (degradation, model names, checkpoints).
    public let metadata: [String: String]
    /// Cells in resolution-major order.
    public let entries: [SweepEntry]

    /// The cell of `mode` at `resolution`.
    public func entry(_ mode: SweepMode, _ resolution: ProbeResolution) -> SweepEntry? {
        entries.first { $0.mode == mode && $0.resolution == resolution }
    }
}

extension SweepReport {
    /// Decodes a report, refusing a task other than the two a sweep writes and entries that do
    /// not hold that task's result (the Markdown and plots render one kind per report).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let task = try container.decode(String.self, forKey: .task)
        let entries = try container.decode([SweepEntry].self, forKey: .entries)
        guard task == "verification" || task == "identification" else {
            throw DecodingError.dataCorruptedError(forKey: .task, in: container,
                                                   debugDescription: "task \"\(task)\" is neither \"verification\" nor \"identification\"")
        }
        if let i = entries.firstIndex(where: { ($0.verification != nil) != (task == "verification") }) {
            throw DecodingError.dataCorruptedError(forKey: .entries, in: container,
                                                   debugDescription: "entry \(i) does not hold a \(task) result, as the report's task says")
        }
        let settings = try container.decode(CrossResolutionSweep.self, forKey: .settings)
        guard settings.ranks.allSatisfy({ $0 >= 1 }), settings.maxRank >= 1 else {
            throw DecodingError.dataCorruptedError(forKey: .settings, in: container,
                                                   debugDescription: "ranks \(settings.ranks) and maxRank \(settings.maxRank) must be at least 1")
        }
        self.init(settings: settings, task: task,
                  modes: try container.decode([SweepMode].self, forKey: .modes),
                  metadata: try container.decode([String: String].self, forKey: .metadata), entries: entries)
    }
}
