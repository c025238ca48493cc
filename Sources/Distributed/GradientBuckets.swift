import Tensor

/// Where each parameter's gradient lives in a few large contiguous float buffers, so an
/// all-reduce of every gradient takes one MPI call per bucket instead of one per parameter
/// (Horovod's tensor fusion; Sergeev & Del Balso, "Horovod", 2018).
///
/// Parameters are laid out in their given order (the optimiser's, identical on every rank),
/// packed greedily: a bucket is closed when the next gradient would take it over `capacity`
/// floats; a larger gradient gets a bucket of its own. After the gradients, each bucket holds
/// one presence flag per parameter (1 when the rank has a gradient for it), so a parameter
/// that only some ranks used still receives the sum of the gradients that exist.
public struct GradientBuckets: Equatable, Sendable {
    /// One parameter's place: its bucket, the offset of its gradient and of its flag.
    public struct Slot: Equatable, Sendable {
        public let bucket: Int
        public let offset: Int
        public let count: Int
        public let flagOffset: Int
    }

    /// Slots in parameter order.
    public let slots: [Slot]
    /// Floats per bucket (gradients, then flags).
    public let bucketSizes: [Int]

    /// Lays out gradients of the given shapes; `capacity` is in floats (default 4 Mi floats, 16 MiB).
    public init(shapes: [[Int]], capacity: Int = 1 << 22) {
        precondition(capacity > 0, "GradientBuckets: capacity must be positive, got \(capacity)")
        var groups: [[Int]] = [], current: [Int] = [], filled = 0
        for (index, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            if !current.isEmpty && filled + count > capacity {
                groups.append(current)
                current = []
                filled = 0
            }
            current.append(index)
            filled += count
        }
        if !current.isEmpty { groups.append(current) }
        var slots = [Slot?](repeating: nil, count: shapes.count), sizes: [Int] = []
        for (bucket, members) in groups.enumerated() {
            let gradientFloats = members.reduce(0) { $0 + shapes[$1].reduce(1, *) }
            var offset = 0
            for (k, index) in members.enumerated() {
                let count = shapes[index].reduce(1, *)
                slots[index] = Slot(bucket: bucket, offset: offset, count: count, flagOffset: gradientFloats + k)
                offset += count
            }
            sizes.append(gradientFloats + members.count)
        }
        self.slots = slots.map { $0! }
        bucketSizes = sizes
    }

    /// Copies each present gradient into its slot and sets its flag (absent ones: zeros, flag 0).
    public func pack(_ gradients: [Tensor?], into buckets: [UnsafeMutableBufferPointer<Float>]) {
        precondition(gradients.count == slots.count, "GradientBuckets.pack: \(gradients.count) gradients for \(slots.count) slots")
        precondition(buckets.map(\.count) == bucketSizes, "GradientBuckets.pack: buffers of \(buckets.map(\.count)) floats, layout needs \(bucketSizes)")
        for bucket in buckets { bucket.initialize(repeating: 0) }
        for (slot, gradient) in zip(slots, gradients) {
            guard let gradient else { continue }
            precondition(gradient.count == slot.count, "GradientBuckets.pack: gradient of \(gradient.count) elements for a slot of \(slot.count)")
            let destination = buckets[slot.bucket].baseAddress!
            gradient.withUnsafeBufferPointer { source in
                (destination + slot.offset).update(from: source.baseAddress!, count: slot.count)
            }
            destination[slot.flagOffset] = 1
        }
    }

    /// The gradients back out of the (reduced) buffers, each multiplied by `scale`: `nil` where
    /// the flag is 0 (no rank had a gradient).
    public func unpack(_ buckets: [UnsafeMutableBufferPointer<Float>], shapes: [[Int]], scale: Float) -> [Tensor?] {
        precondition(shapes.count == slots.count, "GradientBuckets.unpack: \(shapes.count) shapes for \(slots.count) slots")
        return zip(slots, shapes).map { slot, shape in
            let source = buckets[slot.bucket].baseAddress!
            guard source[slot.flagOffset] > 0 else { return nil }
            return Tensor(shape: shape) { destination in
                let from = source + slot.offset
                for i in 0..<slot.count { destination[i] = from[i] * scale }
            }
        }
    }
}
