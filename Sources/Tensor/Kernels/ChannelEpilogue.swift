/// A per-channel map applied to a convolution's output planes as they are produced, while they
/// are still in cache: `y = scale[c]·y + shift[c]`, then PReLU with `slope` when given, then
/// `+ residual` when given — evaluation-mode BatchNorm (and PReLU, and a residual block's sum)
/// folded into the convolution. The arithmetic is that of the separate kernels
/// (``BatchNormKernel/affinePlane(_:_:_:_:_:_:)``, ``BatchNormPReLUKernel/affinePReLU(_:_:_:_:_:_:_:)``,
/// then one rounded addition), so fused and unfused results agree exactly.
struct ChannelEpilogue {
    let scale: UnsafePointer<Float>
    let shift: UnsafePointer<Float>
    /// `[C]`, or `[1]` shared by every channel (`perChannelSlope == false`); `nil`: no PReLU.
    let slope: UnsafePointer<Float>?
    let perChannelSlope: Bool
    /// A tensor of the output's shape added last, and the output it lines up with: the value
    /// added to `output[i]` is `residual[i]`.
    var residual: (values: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>)? = nil

    /// Maps `count` values of channel `channel` in place.
    @inline(__always)
    func apply(_ values: UnsafeMutablePointer<Float>, channel: Int, count: Int) {
        let added = residual.map { $0.values + $0.output.distance(to: values) }
        if let slope {
            BatchNormPReLUKernel.affinePReLU(values, values, count, 0, scale[channel], shift[channel],
                                             slope[perChannelSlope ? channel : 0])
            if let added { addFloats(added, to: values, count: count) }
        } else if let added {
            BatchNormKernel.affinePlaneAdding(values, added, values, count, scale[channel], shift[channel])
        } else {
            BatchNormKernel.affinePlane(values, values, count, 0, scale[channel], shift[channel])
        }
    }

    /// Maps a whole `[N, C, …]` output in place, with the separate evaluation-mode kernels: for
    /// kernels that cannot apply the map as they go.
    func apply(_ y: UnsafeMutablePointer<Float>, shape: [Int]) {
        let layout = BatchNormKernel.Layout(shape)
        if let slope {
            BatchNormPReLUKernel.inferenceForward(layout, x: y, scale: scale, shift: shift, slope: slope,
                                                  perChannelSlope: perChannelSlope, y: y)
        } else {
            BatchNormKernel.affine(layout, x: y, scale: scale, shift: shift, y: y)
        }
        if let residual {
            let count = shape.reduce(1, *)
            parallelFor(count, grain: Elementwise.grain) { range in
                addFloats(residual.values + range.lowerBound, to: y + range.lowerBound, count: range.count)
            }
        }
    }
}
