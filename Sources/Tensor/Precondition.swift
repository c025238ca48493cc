/// Shape and argument checks that keep their message in release builds.
///
/// The standard library's `precondition` drops its message under `-O` (the process stops with a
/// bare "precondition failure"), so a user training a release build would never learn which
/// shapes disagreed. These package-wide functions shadow `precondition` and
/// `preconditionFailure` in every module of CrossRes (not in client code: they are `package`,
/// not `public`): same call syntax, same cost on the passing path (the message is an autoclosure
/// evaluated only on failure), but a failing check stops through `fatalError`, which prints
/// `file:line: Fatal error: <message>` in every build configuration.
@usableFromInline @inline(__always)
package func precondition(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
                          file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition()) { fatalError(message(), file: file, line: line) }
}

/// A failed check that keeps its message in release builds.
@usableFromInline
package func preconditionFailure(_ message: @autoclosure () -> String = String(), file: StaticString = #fileID,
                                 line: UInt = #line) -> Never {
    fatalError(message(), file: file, line: line)
}
