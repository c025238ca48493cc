/// Whether operations record themselves on the autograd tape (task-local, default on).
///
/// Kernels read the mode once on the calling thread before they dispatch work: task-locals do
/// not reach `parallelFor` worker threads.
public enum GradientMode {
    @TaskLocal static var enabled = true

    /// Whether operations are being recorded here.
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording anything on the tape (a frozen teacher's forward pass, an
/// evaluation, an optimiser update). Tensors produced inside are constants.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$enabled.withValue(false, operation: body)
}

/// Runs `body` with recording switched back on (inside a ``withoutGradients(_:)`` region).
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$enabled.withValue(true, operation: body)
}
