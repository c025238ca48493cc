/// Reductions over any set of axes, with `keepingDimensions` (NumPy `keepdims`).
extension Tensor {
    /// Sum over `axes` (all axes when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepingDimensions keep: Bool = false) -> Tensor {
        let axes = Shape.normalize(axes: axes ?? Array(0..<rank), rank: rank, "sum")
        let value = Tensor.reduced(self, axes: axes, kind: .sum, keep: keep)
        guard Tensor.needsGradient(self) else { return value }
        let inputShape = shape, keptShape = Tensor.keptShape(shape, axes)
        return Tensor.recordOperation("sum", value: value, inputs: [self]) { g in
            [g.reshaped(to: keptShape).broadcast(to: inputShape)]
        }
    }

    /// Sum over one axis.
    public func sum(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keep)
    }

    /// Mean over `axes` (all axes when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepingDimensions keep: Bool = false) -> Tensor {
        let axes = Shape.normalize(axes: axes ?? Array(0..<rank), rank: rank, "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        precondition(n > 0, "mean: reducing axes \(axes) of shape \(shape) with no elements")
        return sum(alongAxes: axes, keepingDimensions: keep) * (1 / Float(n))
    }

    /// Mean over one axis.
    public func mean(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keep)
    }

    /// Variance over `axes`: `mean((x − mean x)²)`, divided by `n − 1` when `unbiased`.
    public func variance(alongAxes axes: [Int]? = nil, unbiased: Bool = false, keepingDimensions keep: Bool = false) -> Tensor {
        let axes = Shape.normalize(axes: axes ?? Array(0..<rank), rank: rank, "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        precondition(!unbiased || n > 1, "variance: unbiased variance needs at least 2 elements, got \(n)")
        let centred = self - mean(alongAxes: axes, keepingDimensions: true)
        let squares = centred.square().sum(alongAxes: axes, keepingDimensions: keep)
        return squares * (1 / Float(unbiased ? n - 1 : n))
    }

    /// Maximum over `axes`; the gradient goes to the (first) maximal element of each slice.
    public func max(alongAxes axes: [Int]? = nil, keepingDimensions keep: Bool = false) -> Tensor {
        extreme(axes, keep, max: true)
    }

    /// Minimum over `axes`; the gradient goes to the (first) minimal element of each slice.
    public func min(alongAxes axes: [Int]? = nil, keepingDimensions keep: Bool = false) -> Tensor {
        extreme(axes, keep, max: false)
    }

    /// Maximum over one axis.
    public func max(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor { max(alongAxes: [axis], keepingDimensions: keep) }
    /// Minimum over one axis.
    public func min(alongAxis axis: Int, keepingDimensions keep: Bool = false) -> Tensor { min(alongAxes: [axis], keepingDimensions: keep) }

    private func extreme(_ axes: [Int]?, _ keep: Bool, max isMax: Bool) -> Tensor {
        let name: StaticString = isMax ? "max" : "min"
        let axes = Shape.normalize(axes: axes ?? Array(0..<rank), rank: rank, name)
        let value = Tensor.reduced(self, axes: axes, kind: isMax ? .max : .min, keep: keep)
        guard Tensor.needsGradient(self) else { return value }
        let keptShape = Tensor.keptShape(shape, axes)
        let input = self.detached()
        return Tensor.recordOperation(isMax ? "max" : "min", value: value, inputs: [self]) { g in
            // Route the gradient to the first extremal element of every reduced slice.
            let hits = input.equalMask(value.reshaped(to: keptShape))
            let first = hits.firstOccurrence(alongAxes: axes)
            return [first * g.reshaped(to: keptShape)]
        }
    }

    /// Indices of the maxima along `axis` (first wins ties), as the remaining shape.
    public func argmax(alongAxis axis: Int) -> [Int] { argExtreme(axis, max: true) }
    /// Indices of the minima along `axis` (first wins ties), as the remaining shape.
    public func argmin(alongAxis axis: Int) -> [Int] { argExtreme(axis, max: false) }

    private func argExtreme(_ axis: Int, max isMax: Bool) -> [Int] {
        let axis = Shape.normalize(axis: axis, rank: rank, isMax ? "argmax" : "argmin")
        let (outer, n, inner) = Tensor.split(shape, axis: axis)
        return Reduce.argExtreme(self, outer: outer, n: n, inner: inner, max: isMax)
    }

    /// `log Σ exp(x)` over `axes`, computed stably as `m + log Σ exp(x − m)` with `m` the maximum;
    /// `−∞` (the log of an empty sum) where an axis is empty.
    public func logSumExp(alongAxes axes: [Int]? = nil, keepingDimensions keep: Bool = false) -> Tensor {
        let axes = Shape.normalize(axes: axes ?? Array(0..<rank), rank: rank, "logSumExp")
        if axes.contains(where: { shape[$0] == 0 }) {
            let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
            return .full(keep ? kept : Tensor.reducedShape(shape, axes), -.infinity)
        }
        let m = withoutGradients { max(alongAxes: axes, keepingDimensions: true) }
        let safeM = withoutGradients { m.replacingNonFinite(with: 0) }
        let result = (self - safeM).exp().sum(alongAxes: axes, keepingDimensions: true).log() + safeM
        return keep ? result : result.reshaped(to: Tensor.reducedShape(shape, axes))
    }

    /// Logical mask of the first 1 along `axes` of a 0/1 mask (the rest set to 0).
    func firstOccurrence(alongAxes axes: [Int]) -> Tensor {
        // Move reduced axes last, find the first hit in each row, and move them back.
        let kept = (0..<rank).filter { !axes.contains($0) }
        let order = kept + axes
        let moved = permuted(order)
        let rowLength = axes.reduce(1) { $0 * shape[$1] }
        let rows = rowLength == 0 ? 0 : moved.count / rowLength
        let marked = Tensor(shape: moved.shape) { out in
            let src = moved.storage.base, dst = out.baseAddress!
            for r in 0..<rows {
                var found = false
                for j in 0..<rowLength {
                    let k = r &* rowLength &+ j
                    dst[k] = !found && src[k] != 0 ? 1 : 0
                    if dst[k] != 0 { found = true }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return marked.permuted(inverse)
    }

    // MARK: Helpers shared with other reductions

    /// `(outer, n, inner)` with `n = shape[axis]`.
    static func split(_ shape: [Int], axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Shape with the reduced axes set to 1.
    static func keptShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
        shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    }

    /// Shape with the reduced axes removed.
    static func reducedShape(_ shape: [Int], _ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// Reduces sorted axes, one pass per run of adjacent axes (reduced axes stay as 1s until
    /// the end, so axis numbers stay valid).
    static func reduced(_ x: Tensor, axes: [Int], kind: Reduce.Kind, keep: Bool) -> Tensor {
        var runs: [ClosedRange<Int>] = []
        for axis in axes {
            if let last = runs.last, last.upperBound == axis - 1 { runs[runs.count - 1] = last.lowerBound...axis } else { runs.append(axis...axis) }
        }
        var current = x
        for run in runs.reversed() {
            let s = current.shape
            var next = s
            for axis in run { next[axis] = 1 }
            current = Reduce.middle(current, outer: s[..<run.lowerBound].reduce(1, *), n: s[run].reduce(1, *),
                                    inner: s[(run.upperBound + 1)...].reduce(1, *), kind: kind, resultShape: next)
        }
        return Tensor(shape: keep ? keptShape(x.shape, axes) : reducedShape(x.shape, axes), storage: current.storage)
    }
}
