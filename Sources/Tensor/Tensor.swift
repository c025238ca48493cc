/// A dense, row-major, contiguous float32 tensor.
///
/// `Tensor` is an immutable value: every operation returns a new tensor (reshapes share the
/// storage). When gradients are enabled and an input is tracked, the result records a
/// ``GradNode`` on the tape so that ``backward(gradient:retaining:)`` can differentiate it.
/// Trainable leaves are ``Parameter`` values.
///
/// ```swift
/// var rng = RandomGenerator(seed: 7)
/// let w = Parameter(Tensor.randomNormal([3, 2], using: &rng))
/// let x = Tensor([[1, 2, 3]])
/// let loss = x.matmul(w.value).square().sum()
/// let grads = loss.backward()
/// print(grads[w]!)
/// ```
public struct Tensor {
    /// Dimensions, outermost first. `[]` is a scalar.
    public let shape: [Int]
    /// The elements, shared between tensors that differ only in shape.
    public let storage: TensorStorage
    /// Where this tensor sits on the tape; `nil` for a constant.
    public let node: GradNode?

    /// A tensor over existing storage. `storage.count` must equal the shape's element count.
    public init(shape: [Int], storage: TensorStorage, node: GradNode? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(Shape.count(shape) == storage.count,
                     "Tensor: shape \(shape) needs \(Shape.count(shape)) elements, storage has \(storage.count)")
        self.init(checkedShape: shape, storage: storage, node: node)
    }

    /// A tensor over storage allocated for `shape` (its dimensions already checked).
    @usableFromInline
    init(checkedShape shape: [Int], storage: TensorStorage, node: GradNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A new tensor whose elements are written by `initializer`, which must set every element.
    @inlinable
    public init(shape: [Int], initializingWith initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        let storage = TensorStorage(count: Shape.count(shape))
        try initializer(storage.buffer)
        self.init(checkedShape: shape, storage: storage)
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) {
        precondition(Shape.count(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(Shape.count(shape)) values, got \(scalars.count)")
        self.init(shape: shape) { buffer in
            _ = scalars.withUnsafeBufferPointer { memcpy(buffer.baseAddress!, $0.baseAddress!, $0.count * 4) }
        }
    }

    /// A rank-0 tensor.
    public init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// A vector.
    public init(_ vector: [Float]) { self.init(shape: [vector.count], scalars: vector) }

    /// A matrix from its rows, which must all have the same length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor(rows): rows have different lengths \(rows.map(\.count))")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    // MARK: Properties

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { storage.count }
    /// Row-major strides in elements.
    public var strides: [Int] { Shape.strides(shape) }
    /// Whether this tensor is on the tape (its gradient can be computed).
    public var requiresGradient: Bool { node != nil }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.base, count: count)) }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.base[0]
    }

    /// Read-only access to the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    /// The same values, cut from the tape: no gradient flows through the result.
    public func detached() -> Tensor { node == nil ? self : Tensor(shape: shape, storage: storage) }

    /// The element at a multi-dimensional index (slow; for tests and inspection).
    public subscript(index: Int...) -> Float {
        precondition(index.count == rank, "Tensor subscript: \(index.count) indices for a tensor of rank \(rank)")
        var offset = 0
        for (axis, i) in index.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor subscript: index \(index) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return storage.base[offset]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
