import Tensor

/// `body`'s value, or a stop with its error's description, reported at `file:line` (the caller's):
/// the trapping form of a check that ``TransferLoss/check(_:)`` throws, for a loss's
/// `callAsFunction`:
///
///     func callAsFunction(_ context: TransferContext) -> Tensor {
///         trapping { try check(context) }
///         …
///
/// Unlike the standard library's `preconditionFailure`, which prints only "precondition
/// failure" in a release build, it keeps the message in every build configuration.
public func trapping<T>(file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> T) -> T {
    do { return try body() } catch { preconditionFailure("\(error)", file: file, line: line) }
}
