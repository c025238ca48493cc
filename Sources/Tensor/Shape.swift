/// Shape arithmetic: element counts, row-major strides, axis normalisation and NumPy broadcasting.
public enum Shape {
    /// Number of elements of a tensor of this shape (1 for a scalar `[]`).
    @inlinable public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major (C-contiguous) strides in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in shape.indices.reversed() {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    /// The axis `axis` of a rank-`rank` tensor, accepting negative axes counted from the end.
    public static func normalize(axis: Int, rank: Int, _ function: StaticString = #function) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < max(rank, 1) || (rank == 0 && resolved == 0),
                     "\(function): axis \(axis) is out of range for a tensor of rank \(rank)")
        return resolved
    }

    /// Sorted, de-duplicated, non-negative axes.
    public static func normalize(axes: [Int], rank: Int, _ function: StaticString = #function) -> [Int] {
        let resolved = Set(axes.map { normalize(axis: $0, rank: rank, function) })
        precondition(resolved.count == axes.count, "\(function): repeated axis in \(axes)")
        return resolved.sorted()
    }

    /// The NumPy broadcast of two shapes: dimensions are aligned from the right and must be
    /// equal or 1.
    public static func broadcast(_ a: [Int], _ b: [Int], _ function: StaticString = #function) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1,
                         "\(function): shapes \(a) and \(b) cannot be broadcast (dimension \(i): \(da) vs \(db))")
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Strides for reading a tensor of shape `shape` as if it had shape `target` (a broadcast of
    /// it): broadcast dimensions get stride 0.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return target.indices.map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }
}
