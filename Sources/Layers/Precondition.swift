/// Argument and shape checks that keep their message in release builds (the standard
/// library's `precondition` drops it under `-O`). Shadows `precondition` for every file of
/// the `Layers` module; a failing check stops through `fatalError` with the message.
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
