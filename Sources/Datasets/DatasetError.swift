import Foundation

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

/// A file operation's error in words: the system's message for the POSIX error beneath a
/// Foundation error ("Not a directory", "Permission denied"), where Linux's Foundation would
/// describe only its domain and code ("NSCocoaErrorDomain error 512").
public func fileErrorReason(_ error: any Error) -> String {
    let error = error as NSError, underlying = error.userInfo[NSUnderlyingErrorKey]
    if let posix = underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    if let posix = underlying as? NSError, posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
    if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
    return error.localizedDescription
}
