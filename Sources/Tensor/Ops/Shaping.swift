/// Shape operations: views that share storage (reshape, squeeze, unsqueeze, flatten) and
/// copies (permute, slice, concat, stack, broadcast, pad).
extension Tensor {
    /// The same elements with a new shape; one dimension may be `-1` (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let unknown = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
            precondition(newShape.filter({ $0 == -1 }).count == 1 && known > 0 && count % known == 0,
                         "reshaped: cannot infer -1 in \(newShape) for \(count) elements (shape \(shape))")
            resolved[unknown] = count / known
        }
        precondition(Shape.count(resolved) == count, "reshaped: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        if resolved == shape { return self }
        let value = Tensor(shape: resolved, storage: storage)
        guard Tensor.needsGradient(self) else { return value }
        let original = shape
        return Tensor.recordOperation("reshape", value: value, inputs: [self]) { g in [g.reshaped(to: original)] }
    }

    /// Collapses axes `start…end` into one.
    public func flattened(from start: Int = 1, to end: Int = -1) -> Tensor {
        let s = Shape.normalize(axis: start, rank: rank, "flattened"), e = Shape.normalize(axis: end, rank: rank, "flattened")
        precondition(s <= e, "flattened: start axis \(start) is after end axis \(end) for shape \(shape)")
        return reshaped(to: Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Removes size-1 axes (all of them, or only `axis`).
    public func squeezed(axis: Int? = nil) -> Tensor {
        guard let axis else { return reshaped(to: shape.filter { $0 != 1 }) }
        let a = Shape.normalize(axis: axis, rank: rank, "squeezed")
        precondition(shape[a] == 1, "squeezed: axis \(axis) of shape \(shape) has size \(shape[a]), not 1")
        var s = shape; s.remove(at: a)
        return reshaped(to: s)
    }

    /// Inserts a size-1 axis at `axis` (negative counts from the end of the result).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank + 1, "unsqueezed")
        var s = shape; s.insert(1, at: a)
        return reshaped(to: s)
    }

    /// Axes reordered: result axis `i` is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permuted: \(order) is not a permutation of the \(rank) axes of \(shape)")
        if order == Array(0..<rank) { return self }
        let newShape = order.map { shape[$0] }
        let inStrides = strides
        let gatherStrides = order.map { inStrides[$0] }
        let value = Tensor(shape: newShape) { out in
            Tensor.stridedCopy(from: storage.base, shape: newShape, strides: gatherStrides, to: out.baseAddress!)
        }
        guard Tensor.needsGradient(self) else { return value }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return Tensor.recordOperation("permute", value: value, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Two axes swapped (the last two by default: a matrix transpose).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        let i = Shape.normalize(axis: a, rank: rank, "transposed"), j = Shape.normalize(axis: b, rank: rank, "transposed")
        var order = Array(0..<rank)
        order.swapAt(i, j)
        return permuted(order)
    }

    /// Elements `start ..< start + length` along `axis` (PyTorch `narrow`).
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "narrowed")
        precondition(start >= 0 && length >= 0 && start + length <= shape[a],
                     "narrowed: range \(start)..<\(start + length) out of bounds for axis \(a) of shape \(shape)")
        if start == 0 && length == shape[a] { return self }
        var newShape = shape
        newShape[a] = length
        let (outer, n, inner) = Tensor.split(shape, axis: a)
        let value = Tensor(shape: newShape) { out in
            let src = storage.base, dst = out.baseAddress!
            for o in 0..<outer {
                memcpy(dst + o * length * inner, src + (o * n + start) * inner, length * inner * 4)
            }
        }
        guard Tensor.needsGradient(self) else { return value }
        let full = shape[a]
        return Tensor.recordOperation("narrow", value: value, inputs: [self]) { g in
            [g.padded(axis: a, before: start, after: full - start - length)]
        }
    }

    /// Elements in `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        narrowed(axis: axis, start: range.lowerBound, length: range.count)
    }

    /// Tensors joined along an existing axis; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = Shape.normalize(axis: axis, rank: first.rank, "concatenate")
        for t in tensors {
            precondition(t.rank == first.rank && t.shape.enumerated().allSatisfy { $0.offset == a || $0.element == first.shape[$0.offset] },
                         "concatenate: shapes \(tensors.map(\.shape)) differ outside axis \(a)")
        }
        let sizes = tensors.map { $0.shape[a] }
        var newShape = first.shape
        newShape[a] = sizes.reduce(0, +)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let value = Tensor(shape: newShape) { out in
            let dst = out.baseAddress!
            let total = newShape[a] * inner
            var offset = 0
            for (t, size) in zip(tensors, sizes) {
                let chunk = size * inner
                for o in 0..<outer { memcpy(dst + o * total + offset, t.storage.base + o * chunk, chunk * 4) }
                offset += chunk
            }
        }
        guard GradientMode.isEnabled, tensors.contains(where: { $0.node != nil }) else { return value }
        return recordOperation("concatenate", value: value, inputs: tensors) { g in
            var start = 0
            return sizes.map { size in
                defer { start += size }
                return g.narrowed(axis: a, start: start, length: size)
            }
        }
    }

    /// Tensors of one shape stacked along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        precondition(tensors.allSatisfy { $0.shape == tensors[0].shape }, "stack: shapes differ: \(tensors.map(\.shape))")
        return concatenate(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// This tensor repeated to a shape it broadcasts to (NumPy `broadcast_to`, PyTorch `expand`).
    public func broadcast(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(Shape.broadcast(shape, target, "broadcast(to:)") == target,
                     "broadcast(to:): shape \(shape) cannot be broadcast to \(target)")
        let readStrides = Shape.broadcastStrides(shape, to: target)
        let value = Tensor(shape: target) { out in
            Tensor.stridedCopy(from: storage.base, shape: target, strides: readStrides, to: out.baseAddress!)
        }
        guard Tensor.needsGradient(self) else { return value }
        let original = shape
        return Tensor.recordOperation("broadcast", value: value, inputs: [self]) { g in [g.sum(toShape: original)] }
    }

    /// Padding modes for ``padded(axis:before:after:mode:)``.
    public enum PaddingMode: Sendable { case zero, replicate }

    /// Pads `axis` with `before` and `after` elements (zeros, or copies of the edge element).
    public func padded(axis: Int, before: Int, after: Int, mode: PaddingMode = .zero) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "padded")
        precondition(before >= 0 && after >= 0, "padded: negative padding \(before), \(after)")
        precondition(mode == .zero || shape[a] > 0 || before + after == 0, "padded: cannot replicate an empty axis of shape \(shape)")
        if before == 0 && after == 0 { return self }
        let (outer, n, inner) = Tensor.split(shape, axis: a)
        var newShape = shape
        let m = n + before + after
        newShape[a] = m
        let value = Tensor(shape: newShape) { out in
            let src = storage.base, dst = out.baseAddress!
            for o in 0..<outer {
                let d = dst + o * m * inner, s = src + o * n * inner
                for j in 0..<m {
                    let source = j - before
                    let row = d + j * inner
                    if source >= 0 && source < n {
                        memcpy(row, s + source * inner, inner * 4)
                    } else if mode == .replicate {
                        memcpy(row, s + Swift.min(Swift.max(source, 0), n - 1) * inner, inner * 4)
                    } else {
                        memset(row, 0, inner * 4)
                    }
                }
            }
        }
        guard Tensor.needsGradient(self) else { return value }
        let original = shape
        return Tensor.recordOperation("pad", value: value, inputs: [self]) { g in
            // Each output row adds its gradient to the input row it was copied from.
            [Tensor(shape: original) { out in
                let src = g.storage.base, dst = out.baseAddress!
                memset(dst, 0, out.count * 4)
                for o in 0..<outer {
                    for j in 0..<m {
                        var source = j - before
                        if source < 0 || source >= n {
                            guard mode == .replicate else { continue }
                            source = Swift.min(Swift.max(source, 0), n - 1)
                        }
                        let d = dst + (o * n + source) * inner, s = src + (o * m + j) * inner
                        for i in 0..<inner { d[i] += s[i] }
                    }
                }
            }]
        }
    }

    /// Pads the last two axes (`[…, H, W]`) by `top/bottom/left/right`.
    public func padded2D(top: Int, bottom: Int, left: Int, right: Int, mode: PaddingMode = .zero) -> Tensor {
        precondition(rank >= 2, "padded2D: needs rank ≥ 2, got shape \(shape)")
        return padded(axis: -2, before: top, after: bottom, mode: mode).padded(axis: -1, before: left, after: right, mode: mode)
    }

    /// Copies a strided view (`strides` in elements of `src`) into contiguous memory.
    static func stridedCopy(from src: UnsafePointer<Float>, shape: [Int], strides: [Int], to dst: UnsafeMutablePointer<Float>) {
        let total = Shape.count(shape)
        guard total > 0 else { return }
        let rank = shape.count
        if rank == 0 { dst[0] = src[0]; return }
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        let outer = total / inner
        parallelFor(outer, grain: Swift.max(1, Elementwise.grain / Swift.max(inner, 1))) { rows in
            for row in rows {
                var rest = row, offset = 0
                var axis = rank &- 2
                while axis >= 0 {
                    let i = rest % shape[axis]
                    rest /= shape[axis]
                    offset &+= i &* strides[axis]
                    axis &-= 1
                }
                let d = dst + row &* inner
                if innerStride == 1 {
                    memcpy(d, src + offset, inner &* 4)
                } else if innerStride == 0 {
                    d.update(repeating: src[offset], count: inner)  // a broadcast row: one value
                } else {
                    for j in 0..<inner { d[j] = src[offset &+ j &* innerStride] }
                }
            }
        }
    }
}

import Foundation
