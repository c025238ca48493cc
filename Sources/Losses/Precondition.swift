/// Argument and shape checks that keep their message in release builds (the standard
/// library's `precondition` drops it under `-O`). Shadows `precondition` and
/// `preconditionFailure` for every file of the `Losses` module, as in `Tensor` and `Layers`: a
/// failing check stops through `fatalError`, which prints the message in every configuration.
@usableFromInline @inline(__always)
func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
                  file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}

/// A failed check that keeps its message in release builds.
@usableFromInline
func preconditionFailure(_ message: @autoclosure () -> String = String(), file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
