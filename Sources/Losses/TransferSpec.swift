import Tensor
import Layers

/// What the spec parser needs to know to build losses that own parameters.
public struct TransferLossConfiguration: Sendable {
    /// Student and teacher embedding dimensions (a projection is added to `l2` when they differ).
    public var studentEmbeddingDimension: Int
    public var teacherEmbeddingDimension: Int
    /// Number of identities, for losses with their own classification head (`guided-cnn`).
    public var classes: Int?
    /// Default feature map for `nst` when the token names none.
    public var featureMap: String?
    /// Initialises loss-owned parameters.
    public var generator: RandomGenerator

    public init(studentEmbeddingDimension: Int, teacherEmbeddingDimension: Int? = nil, classes: Int? = nil,
                featureMap: String? = nil, generator: RandomGenerator = RandomGenerator(seed: 0)) {
        self.studentEmbeddingDimension = studentEmbeddingDimension
        self.teacherEmbeddingDimension = teacherEmbeddingDimension ?? studentEmbeddingDimension
        self.classes = classes
        self.featureMap = featureMap
        self.generator = generator
    }
}

/// A spec that could not be turned into a loss: the offending token and why.
public struct TransferSpecError: Error, CustomStringConvertible, Equatable {
    /// The token (`name[=weight][:option=value…]`) at fault, or the whole spec when empty.
    public let token: String
    public let message: String
    public var description: String { "transfer spec: '\(token)': \(message)" }
}

/// The text form of a transfer objective, for the command line:
///
///     l2=5,nst=50,darkrank-soft=16,adda
///     nst=50:map=stage3:kernel=gaussian,kd=1:t=4,darkrank-soft:k=3:alpha=3:beta=3
///
/// Comma-separated terms `name[=weight][:option=value]*`; a term without a weight gets the
/// method's default (`l2` 5, `nst` 50, others 1). ``parse(_:configuration:)`` builds the
/// ``WeightedTransferLoss``; ``methods`` lists every name with its options.
public enum TransferSpec {
    /// One known method: its name, default weight, options (with their values) and builder.
    public struct Method: Sendable {
        public let name: String
        public let defaultWeight: Float
        /// Option names with a short description of the accepted values.
        public let options: [(name: String, values: String)]
        let build: @Sendable (_ options: Options, _ configuration: inout TransferLossConfiguration) throws -> any TransferLoss
    }

    /// Parsed `option=value` pairs of one token, with typed accessors that throw clear errors.
    public struct Options {
        let token: String
        let values: [String: String]

        func string(_ key: String) -> String? { values[key] }

        func float(_ key: String, _ fallback: Float, positive: Bool = false) throws -> Float {
            guard let text = values[key] else { return fallback }
            guard let value = Float(text), value.isFinite, !positive || value > 0 else {
                throw TransferSpecError(token: token, message: "option '\(key)' needs a\(positive ? " positive" : "") number, got '\(text)'")
            }
            return value
        }

        /// A finite number in `range` (bounds included unless `openAbove`).
        func float(_ key: String, _ fallback: Float, in range: ClosedRange<Float>, openAbove: Bool = false) throws -> Float {
            guard let text = values[key] else { return fallback }
            guard let value = Float(text), range.contains(value), !(openAbove && value == range.upperBound) else {
                let bounds = "\(range.lowerBound)...\(openAbove ? "<" : "")\(range.upperBound)"
                throw TransferSpecError(token: token, message: "option '\(key)' needs a number in \(bounds), got '\(text)'")
            }
            return value
        }

        func int(_ key: String, _ fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let text = values[key] else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw TransferSpecError(token: token, message: "option '\(key)' needs an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            return value
        }

        func choice<T>(_ key: String, _ fallback: T, _ choices: [(String, T)]) throws -> T {
            guard let text = values[key] else { return fallback }
            guard let value = choices.first(where: { $0.0 == text })?.1 else {
                throw TransferSpecError(token: token, message: "option '\(key)' must be one of \(choices.map(\.0).joined(separator: ", ")), got '\(text)'")
            }
            return value
        }
    }

    /// Every method the spec knows.
    public static let methods: [Method] = [
        Method(name: "l2", defaultWeight: FeatureL2Transfer.defaultWeight,
               options: [("distance", "squared|euclidean|cosine")]) { options, configuration in
            let distance = try options.choice("distance", FeatureL2Transfer.Distance.squared,
                                              FeatureL2Transfer.Distance.allCases.map { ($0.rawValue, $0) })
            return FeatureL2Transfer(distance: distance, studentDimension: configuration.studentEmbeddingDimension,
                                     teacherDimension: configuration.teacherEmbeddingDimension, using: &configuration.generator)
        },
        Method(name: "kd", defaultWeight: KnowledgeDistillation.defaultWeight,
               options: [("t", "temperature in \(Limits.temperatures.lowerBound)...\(Limits.temperatures.upperBound) (4)")]) { options, _ in
            let temperature = try options.float("t", 4)
            guard Limits.temperatures.contains(temperature) else {
                throw TransferSpecError(token: options.token, message: "option 't' needs a temperature in \(Limits.temperatures.lowerBound)...\(Limits.temperatures.upperBound) (smaller ones overflow logits / T, larger ones only inflate the T² factor), got '\(options.string("t")!)'")
            }
            return KnowledgeDistillation(temperature: temperature)
        },
        Method(name: "mmd", defaultWeight: MMDTransfer.defaultWeight,
               options: [("kernel", "multi-gaussian|gaussian|linear|poly"), ("normalize", "true|false")]) { options, configuration in
            try requireEqualDimensions(options, configuration, " (one kernel compares both)")
            return MMDTransfer(kernel: try options.choice("kernel", MMDKernel.multiGaussian(), kernels),
                        normalizesEmbeddings: try options.choice("normalize", true, [("true", true), ("false", false)]))
        },
        Method(name: "nst", defaultWeight: NeuronSelectivityTransfer.defaultWeight,
               options: [("map", "feature map name"), ("student-map", "name"), ("teacher-map", "name"),
                         ("kernel", "poly|linear|gaussian|multi-gaussian"), ("teacher-term", "keep|drop")]) { options, configuration in
            let map = options.string("map") ?? configuration.featureMap
            guard let student = options.string("student-map") ?? map, let teacher = options.string("teacher-map") ?? map else {
                throw TransferSpecError(token: options.token, message: "needs a feature map: add ':map=<name>' (or set the configuration's featureMap)")
            }
            return NeuronSelectivityTransfer(studentMap: student, teacherMap: teacher,
                                             kernel: try options.choice("kernel", MMDKernel.nstPolynomial, kernels),
                                             includeTeacherTerm: try options.choice("teacher-term", true, [("keep", true), ("drop", false)]))
        },
        Method(name: "darkrank-soft", defaultWeight: DarkRank.defaultWeight,
               options: darkRankOptions + [("k", "list length 2...\(DarkRank.maximumSoftListLength) (4)"), ("objective", "kl|ce")]) { options, _ in
            let k = try options.int("k", 4, range: 2...DarkRank.maximumSoftListLength)
            return try darkRank(.soft(listLength: k), options)
        },
        Method(name: "darkrank-hard", defaultWeight: DarkRank.defaultWeight,
               options: darkRankOptions + [("k", "truncate the ranking to the top k ≥ 2 (full)")]) { options, _ in
            let k = try options.string("k").map { _ in try options.int("k", 0, range: 2...Int.max) }
            return try darkRank(.hard(listLength: k), options)
        },
        Method(name: "guided-cnn", defaultWeight: GuidedCNN.defaultWeight,
               options: [("feature", "cross-resolution pull weight (5)"), ("guide", "guide identity weight (1)"),
                         ("learner", "learner identity weight (1)"), ("s", "head scale (64)"), ("m", "ArcFace margin (0.5)")]) { options, configuration in
            guard let classes = configuration.classes else {
                throw TransferSpecError(token: options.token, message: "needs the number of identities (the configuration's classes)")
            }
            try requireEqualDimensions(options, configuration)
            let weights = 0...Float.greatestFiniteMagnitude
            let scale = try options.float("s", 64, positive: true), margin = try options.float("m", 0.5, in: 0...Float.pi, openAbove: true)
            let guide = try options.float("guide", 1, in: weights), learner = try options.float("learner", 1, in: weights)
            let feature = try options.float("feature", 5, in: weights)
            let head = MarginHead.arcFace(classes: classes, embeddingDimension: configuration.teacherEmbeddingDimension,
                                          scale: scale, margin: margin, using: &configuration.generator)
            return GuidedCNN(head: head, guideIdentityWeight: guide, learnerIdentityWeight: learner, crossFeatureWeight: feature)
        },
        Method(name: "dann", defaultWeight: DANN.defaultWeight,
               options: [("lambda", "fixed reversal strength (default: DANN schedule)"), ("gamma", "schedule γ (10)")]) { options, configuration in
            let strength: DANN.Strength = options.string("lambda") != nil
                ? .constant(try options.float("lambda", 1, in: 0...Float.greatestFiniteMagnitude))
                : .schedule(gamma: try options.float("gamma", 10, positive: true))
            try requireEqualDimensions(options, configuration, " (one domain head sees both)")
            return DANN(embeddingDimension: configuration.teacherEmbeddingDimension, strength: strength, using: &configuration.generator)
        },
        Method(name: "adda", defaultWeight: ADDA.defaultWeight,
               options: [("hidden", "hidden widths, e.g. 512x512"), ("activation", "prelu|relu|leakyRelu")]) { options, configuration in
            let hidden = try widths(options, "hidden", [512, 512])
            // The critic ends in two logits (source, target), as built below.
            let outputs = 2
            if let problem = Limits.criticProblem(inputDimension: configuration.teacherEmbeddingDimension, hidden: hidden, outputs: outputs) {
                throw TransferSpecError(token: options.token, message: "hidden widths \(problem)")
            }
            let activation = try options.choice("activation", DomainDiscriminator.Activation.prelu,
                                                DomainDiscriminator.Activation.allCases.map { ($0.rawValue, $0) })
            try requireEqualDimensions(options, configuration, " (one critic sees both)")
            return ADDA(critic: DomainDiscriminator(inputDimension: configuration.teacherEmbeddingDimension, hidden: hidden,
                                                    outputs: outputs, activation: activation, using: &configuration.generator))
        },
    ]

    /// Throws unless the student's and the teacher's embeddings have one dimension; `why` says
    /// what compares them.
    static func requireEqualDimensions(_ options: Options, _ configuration: TransferLossConfiguration, _ why: String = "") throws {
        guard configuration.studentEmbeddingDimension == configuration.teacherEmbeddingDimension else {
            throw TransferSpecError(token: options.token, message: "needs equal student and teacher embedding dimensions\(why), got \(configuration.studentEmbeddingDimension) and \(configuration.teacherEmbeddingDimension)")
        }
    }

    /// Builds the weighted sum a spec describes.
    public static func parse(_ spec: String, configuration: TransferLossConfiguration) throws -> WeightedTransferLoss {
        var configuration = configuration
        return WeightedTransferLoss(try writtenTerms(spec).map { term in
            (term.weight, try term.method.build(Options(token: term.token, values: term.values), &configuration))
        })
    }

    /// Whether a term of `spec` reads ``TransferLossConfiguration/featureMap``: an `nst` term
    /// naming neither `map` nor both `student-map` and `teacher-map`. Needs no dimensions;
    /// throws as ``parse(_:configuration:)`` does on a spec that is not well formed.
    public static func readsConfiguredFeatureMap(_ spec: String) throws -> Bool {
        try writtenTerms(spec).contains { term in
            term.method.name == "nst" && term.values["map"] == nil && (term.values["student-map"] == nil || term.values["teacher-map"] == nil)
        }
    }

    /// One term of a spec as written: its method, weight and options.
    struct WrittenTerm {
        let method: Method
        let weight: Float
        let values: [String: String]
        let token: String
    }

    /// The terms of `spec`, checked before anything is built: known losses with valid weights,
    /// known options written `name=value`, each once, and no term repeated with the same options.
    static func writtenTerms(_ spec: String) throws -> [WrittenTerm] {
        let tokens = spec.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !(tokens.count == 1 && tokens[0].isEmpty) else {
            throw TransferSpecError(token: spec, message: "empty spec; known losses: \(knownNames)")
        }
        var terms: [WrittenTerm] = []
        for token in tokens {
            guard !token.isEmpty else { throw TransferSpecError(token: spec, message: "empty term (two commas in a row, or a trailing comma)") }
            let parts = token.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let head = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let method = methods.first(where: { $0.name == head[0] }) else {
                throw TransferSpecError(token: token, message: "unknown loss '\(head[0])'; known losses: \(knownNames)")
            }
            var weight = method.defaultWeight
            if head.count == 2 {
                guard let value = Float(head[1]), value.isFinite, value >= 0 else {
                    throw TransferSpecError(token: token, message: "weight must be a non-negative number, got '\(head[1])'")
                }
                weight = value
            }
            var values: [String: String] = [:]
            for option in parts.dropFirst() {
                let pair = option.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2, !pair[1].isEmpty else {
                    throw TransferSpecError(token: token, message: "option '\(option)' must be written name=value")
                }
                guard method.options.contains(where: { $0.name == pair[0] }) else {
                    let known = method.options.map { "\($0.name) (\($0.values))" }.joined(separator: ", ")
                    throw TransferSpecError(token: token, message: "unknown option '\(pair[0])' for \(method.name); known options: \(known.isEmpty ? "none" : known)")
                }
                guard values.updateValue(pair[1], forKey: pair[0]) == nil else {
                    throw TransferSpecError(token: token, message: "option '\(pair[0])' given twice")
                }
            }
            if let earlier = terms.first(where: { $0.method.name == method.name && $0.values == values }) {
                throw TransferSpecError(token: token, message: "repeats '\(earlier.token)' (the same loss with the same options); give it once, with the weights added")
            }
            terms.append(WrittenTerm(method: method, weight: weight, values: values, token: token))
        }
        return terms
    }

    /// Bounds on what a spec may ask for, checked before anything is allocated.
    public enum Limits {
        /// Most weights an `adda` critic may have (2²⁴, 64 MiB of floats; the default
        /// 512×512 critic over 512-d embeddings has 0.5 M).
        public static let maximumCriticWeights = 1 << 24
        /// Widest hidden layer an `adda` critic may have…
        public static let maximumCriticWidth = 1 << 16
        /// …and most hidden layers.
        public static let maximumCriticDepth = 64
        /// `kd`'s temperatures: far below 1 `logits / T` overflows `Float`; far above, the `T²`
        /// factor does (from about 1.8·10¹⁹) long after the softened targets are uniform.
        public static let temperatures: ClosedRange<Float> = 1e-3...1e3

        /// What is wrong with a critic of these widths (`nil`: within the limits), as
        /// "<widths> <problem>", e.g. "100000x100000 make a critic of 10⁹ weights, above the limit …".
        public static func criticProblem(inputDimension: Int, hidden: [Int], outputs: Int) -> String? {
            let text = hidden.map(String.init).joined(separator: "x")
            guard hidden.count <= maximumCriticDepth, hidden.allSatisfy({ (1...maximumCriticWidth).contains($0) }) else {
                return "\(text) need at most \(maximumCriticDepth) widths in 1...\(maximumCriticWidth)"
            }
            let widths = [inputDimension] + hidden + [outputs]
            let weights = zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
            return weights <= maximumCriticWeights ? nil
                : "\(text) make a critic of \(weights) weights, above the limit of \(maximumCriticWeights)"
        }
    }

    /// The known method names, comma-separated.
    public static var knownNames: String { methods.map(\.name).joined(separator: ", ") }

    private static let kernels: [(String, MMDKernel)] = [
        ("poly", .nstPolynomial), ("linear", .linear), ("gaussian", .gaussian()), ("multi-gaussian", .multiGaussian()),
    ]

    private static let darkRankOptions: [(name: String, values: String)] = [
        ("alpha", "score scale α > 0 (3)"), ("beta", "distance power β > 0 (3); α·2^β ≤ 1e30"), ("queries", "all|first-half"),
    ]

    private static func darkRank(_ mode: DarkRank.Mode, _ options: Options) throws -> DarkRank {
        let alpha = try options.float("alpha", 3, positive: true), beta = try options.float("beta", 3, positive: true)
        guard DarkRank.largestScoreMagnitude(alpha: alpha, beta: beta) <= DarkRank.maximumScoreMagnitude else {
            throw TransferSpecError(token: options.token, message: "alpha·2^beta (the largest score, at distance 2 between unit-norm embeddings) must be at most \(DarkRank.maximumScoreMagnitude) so that a list's log-likelihood stays finite, got alpha = \(alpha), beta = \(beta); lower alpha or beta")
        }
        return DarkRank(mode: mode, alpha: alpha, beta: beta,
                        objective: try options.choice("objective", .kullbackLeibler, [("kl", .kullbackLeibler), ("ce", .crossEntropy)]),
                        queries: try options.choice("queries", .all, [("all", .all), ("first-half", .firstHalf)]))
    }

    /// Positive widths separated by 'x' (their limits are ``Limits/criticProblem(inputDimension:hidden:outputs:)``'s).
    private static func widths(_ options: Options, _ key: String, _ fallback: [Int]) throws -> [Int] {
        guard let text = options.string(key) else { return fallback }
        let values = text.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw TransferSpecError(token: options.token, message: "option '\(key)' needs positive widths separated by 'x', got '\(text)'")
        }
        return values.map { $0! }
    }
}

import Foundation
