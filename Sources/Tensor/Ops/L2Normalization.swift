/// L2 normalisation along one axis (PyTorch `F.normalize`), fused into one pass forward and
/// one pass backward:
///
///     y = x / n,   n = max(‖x‖₂, eps)   (the norm taken along `axis`)
///     ∂L/∂x = (g − y·⟨g, y⟩) / n       (‖x‖ > eps),   g / eps   (otherwise)
///
/// Normalising embeddings and the class weights of a margin head over many identities is the
/// hot spot it exists for (the composed `x / max(√Σx², eps)` allocates half a dozen
/// temporaries each way, and its gradient is NaN on a zero vector).
extension Tensor {
    public func l2Normalized(axis: Int = -1, eps: Float = 1e-12) -> Tensor {
        let a = Shape.normalize(axis: axis, rank: rank, "l2Normalized")
        let l = L2Layout(shape: shape, axis: a)
        let norms = TensorStorage(count: l.outer &* l.inner)
        let value = Tensor(shape: shape) { out in
            l.forward(x: storage.base, y: out.baseAddress!, norms: norms.base, eps: eps)
        }
        guard Tensor.needsGradient(self) else { return value }
        return Tensor.recordOperation("l2Normalized", value: value, inputs: [self]) { g in
            [Tensor(shape: l.shape) { out in
                l.backward(g: g.storage.base, y: value.storage.base, norms: norms.base, eps: eps, dx: out.baseAddress!)
            }]
        }
    }
}

/// `[outer, d, inner]` view of a tensor normalised along its middle axis.
private struct L2Layout {
    let shape: [Int]
    let outer, d, inner: Int

    init(shape: [Int], axis: Int) {
        self.shape = shape
        d = shape[axis]
        outer = shape[..<axis].reduce(1, *)
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    var grain: Int { Swift.max(1, 16_384 / Swift.max(d &* inner, 1)) }

    /// `y = x / n` and the clamped norms `n` (`[outer, inner]`).
    func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, norms: UnsafeMutablePointer<Float>, eps: Float) {
        let d = d, inner = inner
        parallelFor(outer, grain: grain) { range in
            for o in range {
                let src = x + o &* d &* inner, dst = y + o &* d &* inner, n = norms + o &* inner
                if inner == 1 {
                    let norm = Swift.max(Reduce.dot(src, src, d).squareRoot(), eps)
                    n[0] = norm
                    let inverse = 1 / norm
                    for k in 0..<d { dst[k] = src[k] * inverse }
                    continue
                }
                n.update(repeating: 0, count: inner)
                for k in 0..<d {
                    let row = src + k &* inner
                    for i in 0..<inner { n[i] += row[i] * row[i] }
                }
                for i in 0..<inner { n[i] = Swift.max(n[i].squareRoot(), eps) }
                for k in 0..<d {
                    let row = src + k &* inner, target = dst + k &* inner
                    for i in 0..<inner { target[i] = row[i] / n[i] }
                }
            }
        }
    }

    /// `dx = (g − y·⟨g, y⟩) / n`, the projection dropped where the norm was clamped at `eps`.
    func backward(g: UnsafePointer<Float>, y: UnsafePointer<Float>, norms: UnsafePointer<Float>, eps: Float,
                  dx: UnsafeMutablePointer<Float>) {
        let d = d, inner = inner
        parallelFor(outer, grain: grain) { range in
            let projections = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer { projections.deallocate() }
            for o in range {
                let base = o &* d &* inner
                let gs = g + base, ys = y + base, dst = dx + base, n = norms + o &* inner
                if inner == 1 {
                    let projection = n[0] <= eps ? 0 : Reduce.dot(gs, ys, d)
                    let inverse = 1 / n[0]
                    for k in 0..<d { dst[k] = (gs[k] - ys[k] * projection) * inverse }
                    continue
                }
                projections.update(repeating: 0, count: inner)
                for k in 0..<d {
                    let gr = gs + k &* inner, yr = ys + k &* inner
                    for i in 0..<inner { projections[i] += gr[i] * yr[i] }
                }
                for i in 0..<inner where n[i] <= eps { projections[i] = 0 }
                for k in 0..<d {
                    let gr = gs + k &* inner, yr = ys + k &* inner, target = dst + k &* inner
                    for i in 0..<inner { target[i] = (gr[i] - yr[i] * projections[i]) / n[i] }
                }
            }
        }
    }
}
