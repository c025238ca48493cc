/// An error reading or interpreting user data: an image file, a data set on disk, a
/// degradation spec.
///
/// The message always names the source (a file path, or the spec text) and the problem, e.g.
/// `"faces/a.png: PNG error: IDAT: invalid distance too far back"`.
public struct DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file, record or spec the problem was found in.
    public let source: String
    /// What is wrong.
    public let message: String

    public init(_ source: String, _ message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}
