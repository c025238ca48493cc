/// Owned, 64-byte aligned float32 memory behind one or more tensors.
///
/// A storage is written once, by the operation that creates it, and is read-only afterwards:
/// tensors are immutable values, so reshaping shares a storage and every other operation
/// allocates a new one. That rule is what lets the autograd tape hold on to inputs safely and
/// makes `@unchecked Sendable` sound for crossing threads.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Uninitialised storage of `count` floats.
    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) &* 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(base).deallocate() }

    /// The elements as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}
