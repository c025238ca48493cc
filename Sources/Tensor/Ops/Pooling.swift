/// Spatial pooling of `[N, C, H, W]` inputs (PyTorch `max_pool2d`, `avg_pool2d`,
/// `adaptive_avg_pool2d(1)`); output size `⌊(H + 2p − k)/s⌋ + 1`.
extension Tensor {
    /// Maximum over each `kernelSize` window (`stride` defaults to the kernel size); padding
    /// counts as −∞. The gradient goes to the first maximum of each window.
    public func maxPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0) -> Tensor {
        let g = poolGeometry("maxPool2d", kernelSize, stride ?? kernelSize, padding)
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(g.planes &* g.outPlane, 1))
        let indices = PoolIndices(argmax)
        let value = Tensor(shape: [shape[0], shape[1], g.outHeight, g.outWidth]) { out in
            PoolKernel.maxForward(g, x: storage.base, y: out.baseAddress!, argmax: argmax)
        }
        guard Tensor.needsGradient(self) else { return value }
        let inputShape = shape
        return Tensor.recordOperation("maxPool2d", value: value, inputs: [self]) { dy in
            [Tensor(shape: inputShape) { out in PoolKernel.maxBackward(g, dy: dy.storage.base, argmax: indices.base, dx: out.baseAddress!) }]
        }
    }

    /// Mean over each window. With `countIncludePad` (PyTorch's default) the divisor is always
    /// `kH·kW`; otherwise it is the number of input elements under the window.
    public func avgPool2d(kernelSize: Size2D, stride: Size2D? = nil, padding: Size2D = 0, countIncludePad: Bool = true) -> Tensor {
        let g = poolGeometry("avgPool2d", kernelSize, stride ?? kernelSize, padding)
        let value = Tensor(shape: [shape[0], shape[1], g.outHeight, g.outWidth]) { out in
            PoolKernel.averageForward(g, countIncludePad: countIncludePad, x: storage.base, y: out.baseAddress!)
        }
        guard Tensor.needsGradient(self) else { return value }
        let inputShape = shape
        return Tensor.recordOperation("avgPool2d", value: value, inputs: [self]) { dy in
            [Tensor(shape: inputShape) { out in
                PoolKernel.averageBackward(g, countIncludePad: countIncludePad, dy: dy.storage.base, dx: out.baseAddress!)
            }]
        }
    }

    /// Mean over the spatial axes: `[N, C, H, W]` → `[N, C]`.
    public func globalAveragePool2d() -> Tensor {
        precondition(rank == 4 && shape[2] >= 1 && shape[3] >= 1, "globalAveragePool2d: input must be [N, C, H, W] with non-empty planes, got \(shape)")
        let planes = shape[0] &* shape[1], area = shape[2] &* shape[3]
        let value = Tensor(shape: [shape[0], shape[1]]) { out in
            let src = storage.base, dst = out.baseAddress!
            parallelFor(planes, grain: Swift.max(1, 16_384 / Swift.max(area, 1))) { range in
                for p in range { dst[p] = Reduce.sum(src + p &* area, area) / Float(area) }
            }
        }
        guard Tensor.needsGradient(self) else { return value }
        let inputShape = shape
        return Tensor.recordOperation("globalAveragePool2d", value: value, inputs: [self]) { dy in
            [Tensor(shape: inputShape) { out in
                let g = dy.storage.base, dst = out.baseAddress!
                parallelFor(planes, grain: Swift.max(1, 16_384 / Swift.max(area, 1))) { range in
                    for p in range { (dst + p &* area).update(repeating: g[p] / Float(area), count: area) }
                }
            }]
        }
    }

    private func poolGeometry(_ function: String, _ k: Size2D, _ s: Size2D, _ p: Size2D) -> PoolKernel.Geometry {
        precondition(rank == 4, "\(function): input must be [N, C, H, W], got \(shape)")
        precondition(k.height >= 1 && k.width >= 1 && s.height >= 1 && s.width >= 1,
                     "\(function): kernel size \(k) and stride \(s) must be ≥ 1")
        precondition(p.height >= 0 && p.width >= 0 && 2 * p.height <= k.height && 2 * p.width <= k.width,
                     "\(function): padding \(p) must be ≥ 0 and at most half the kernel size \(k)")
        let h = shape[2], w = shape[3]
        precondition(h >= 1 && w >= 1, "\(function): input planes must not be empty, got \(shape)")
        precondition(h + 2 * p.height >= k.height && w + 2 * p.width >= k.width,
                     "\(function): kernel \(k) is larger than the padded input \(shape) (padding \(p))")
        return PoolKernel.Geometry(planes: shape[0] * shape[1], height: h, width: w, kernelHeight: k.height, kernelWidth: k.width,
                                   strideHeight: s.height, strideWidth: s.width, padHeight: p.height, padWidth: p.width,
                                   outHeight: (h + 2 * p.height - k.height) / s.height + 1,
                                   outWidth: (w + 2 * p.width - k.width) / s.width + 1)
    }
}

/// Owner of max-pooling argmax indices, freed with the backward closure that reads them.
private final class PoolIndices {
    let base: UnsafeMutablePointer<Int32>
    init(_ base: UnsafeMutablePointer<Int32>) { self.base = base }
    deinit { base.deallocate() }
}
