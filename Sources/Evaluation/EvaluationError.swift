/// Why an evaluation could not be computed.
///
/// Every metric refuses input it cannot score honestly (no impostor pairs for a ROC, a FAR
/// finer than the impostor count resolves, a probe identity missing from a closed-set
/// gallery) instead of returning `NaN`; the message names the counts involved.
public struct EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The kind of failure, for programmatic handling.
    public enum Kind: String, Sendable, Codable {
        /// No pairs, probes, gallery entries or images.
        case emptyInput
        /// Two inputs that must have the same length or dimension do not.
        case mismatchedInput
        /// A score, distance or embedding is NaN or infinite.
        case nonFiniteValue
        /// A ROC or TAR needs at least one genuine (same-identity) pair.
        case noGenuinePairs
        /// A ROC or FAR needs at least one impostor (different-identity) pair.
        case noImpostorPairs
        /// The requested FAR is below `1 / #impostors`, the finest the data can resolve.
        case farNotResolvable
        /// A closed-set probe whose identity has no gallery entry.
        case probeNotInGallery
        /// A model returned an output of the wrong shape, or an image batch has the wrong shape.
        case badModelOutput
        /// An argument outside its valid range (fold count, FAR target, rank, image size).
        case invalidArgument
        /// A report could not be written.
        case fileSystem
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Evaluation error (\(kind.rawValue)): \(message)" }
}
