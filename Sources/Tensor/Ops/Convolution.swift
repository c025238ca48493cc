/// A pair of sizes for the two spatial axes (kernel size, stride, padding, dilation);
/// an integer literal gives both: `stride: 2`.
public struct Size2D: Equatable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(_ height: Int, _ width: Int) {
        self.height = height
        self.width = width
    }

    public init(integerLiteral value: Int) { self.init(value, value) }

    public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch `F.conv2d`):
    ///
    ///     y[n, o, i, j] = b[o] + Σ_{c ∈ group(o)} Σ_{u,v} w[o, c, u, v] · x[n, c, i·s + u·d − p, j·s + v·d − p]
    ///
    /// with zero padding. `input` is `[N, C, H, W]`, `weight` `[O, C/groups, kH, kW]`, `bias` `[O]`;
    /// the result is `[N, O, H', W']` with `H' = ⌊(H + 2p − d·(kH − 1) − 1)/s⌋ + 1`.
    ///
    /// Kernels: grouped convolutions with at most ``ConvGeometry/directGroupLimit`` channels per
    /// group (depthwise) run a direct SIMD kernel (the forward pass of depthwise convolutions with
    /// outputs of 4×4 and smaller one over four channels at a time); unpadded 1×1 stride-1
    /// convolutions are plain GEMMs;
    /// wide 3×3 stride-1 convolutions use Winograd's F(4×4, 3×3) (forward, the input gradient as
    /// a correlation with the flipped kernel, and the weight gradient over the same tiles);
    /// ungrouped strided convolutions with kernels larger than 1×1, 16 or more input channels and
    /// wide outputs (at most 1/16 of the phase planes' width dropped; 3×3 stride 2: outputs 15
    /// and more wide) run one GEMM per kernel tap over the input's phase planes; everything else is
    /// im2col + GEMM. Forward and backward are parallel over the batch (or over channels for the
    /// direct kernel).
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Size2D = 1,
                              padding: Size2D = 0, dilation: Size2D = 1, groups: Int = 1) -> Tensor {
        let g = ConvGeometry(input: input.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                             padding: padding, dilation: dilation, groups: groups)
        let value = Tensor(shape: g.outputShape) { out in
            g.forward(x: input.storage.base, w: weight.storage.base, bias: bias?.storage.base, y: out.baseAddress!)
        }
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        guard inputs.contains(where: { Tensor.needsGradient($0) }) else { return value }
        let x = input.detached(), w = weight.detached()
        let needInput = input.node != nil, needWeight = weight.node != nil, needBias = bias?.node != nil
        return recordOperation("conv2d", value: value, inputs: inputs) { dy in
            let dx: Tensor? = needInput ? Tensor(shape: g.inputShape) { _ in } : nil
            let dw: Tensor? = needWeight ? Tensor(shape: g.weightShape) { _ in } : nil
            if g.batch == 0 {
                dw?.storage.base.update(repeating: 0, count: g.outChannels &* g.patch)  // nothing to sum
            } else if g.usesDirectKernel {
                if let dx, !ConvDirect.backwardInputByCorrelation(g, dy: dy.storage.base, w: w.storage.base, dx: dx.storage.base) {
                    ConvDirect.backwardInput(g, dy: dy.storage.base, w: w.storage.base, dx: dx.storage.base)
                }
                if let dw { ConvDirect.backwardWeight(g, dy: dy.storage.base, x: x.storage.base, dw: dw.storage.base) }
            } else if ConvWinograd.supports(g) {
                if let dx {
                    let done = ConvGEMM.backwardInputByCorrelation(g, dy: dy.storage.base, w: w.storage.base, dx: dx.storage.base)
                    precondition(done, "conv2d backward: a Winograd geometry \(g.inputShape) must allow the correlation")
                }
                if let dw { ConvWinograd.backwardWeight(g, dy: dy.storage.base, x: x.storage.base, dw: dw.storage.base) }
            } else if ConvPhaseTaps.supports(g) {
                ConvPhaseTaps.backward(g, dy: dy.storage.base, x: x.storage.base, w: w.storage.base, dx: dx?.storage.base,
                                       dw: dw?.storage.base)
            } else {
                let inputDone = dx.map { ConvGEMM.backwardInputByCorrelation(g, dy: dy.storage.base, w: w.storage.base, dx: $0.storage.base) } ?? false
                ConvGEMM.backward(g, dy: dy.storage.base, x: x.storage.base, w: w.storage.base,
                                  dx: inputDone ? nil : dx?.storage.base, dw: dw?.storage.base)
            }
            var result: [Tensor?] = [dx, dw]
            if bias != nil {
                result.append(needBias ? ConvGeometry.channelSums(dy, channels: g.outChannels) : nil)
            }
            return result
        }
    }
}

/// Shapes and loop bounds of one convolution.
struct ConvGeometry {
    /// Grouped convolutions with at most this many input and output channels per group use the
    /// direct kernel (GEMMs that small are all overhead).
    static let directGroupLimit = 4

    let batch, inChannels, height, width: Int
    let outChannels, kernelHeight, kernelWidth: Int
    let strideHeight, strideWidth, padHeight, padWidth, dilationHeight, dilationWidth: Int
    let groups, outHeight, outWidth: Int

    init(input: [Int], weight: [Int], bias: [Int]?, stride: Size2D, padding: Size2D, dilation: Size2D, groups: Int) {
        precondition(input.count == 4, "conv2d: input must be [N, C, H, W], got \(input)")
        precondition(weight.count == 4 && weight[2] >= 1 && weight[3] >= 1, "conv2d: weight must be [O, C/groups, kH, kW] with kH, kW ≥ 1, got \(weight)")
        precondition(groups >= 1 && input[1] % groups == 0 && weight[0] % groups == 0,
                     "conv2d: groups \(groups) must divide input channels \(input[1]) and output channels \(weight[0])")
        precondition(weight[1] * groups == input[1],
                     "conv2d: weight \(weight) expects \(weight[1] * groups) input channels with groups \(groups), input \(input) has \(input[1])")
        precondition(stride.height >= 1 && stride.width >= 1 && dilation.height >= 1 && dilation.width >= 1
                     && padding.height >= 0 && padding.width >= 0,
                     "conv2d: stride \(stride) and dilation \(dilation) must be ≥ 1, padding \(padding) ≥ 0")
        if let bias { precondition(bias == [weight[0]], "conv2d: bias shape \(bias) must be [\(weight[0])]") }
        batch = input[0]; inChannels = input[1]; height = input[2]; width = input[3]
        outChannels = weight[0]; kernelHeight = weight[2]; kernelWidth = weight[3]
        strideHeight = stride.height; strideWidth = stride.width
        padHeight = padding.height; padWidth = padding.width
        dilationHeight = dilation.height; dilationWidth = dilation.width
        self.groups = groups
        outHeight = (height + 2 * padHeight - dilationHeight * (kernelHeight - 1) - 1) / strideHeight + 1
        outWidth = (width + 2 * padWidth - dilationWidth * (kernelWidth - 1) - 1) / strideWidth + 1
        precondition(height + 2 * padHeight >= dilationHeight * (kernelHeight - 1) + 1
                     && width + 2 * padWidth >= dilationWidth * (kernelWidth - 1) + 1,
                     "conv2d: kernel \(kernelHeight)×\(kernelWidth) (dilation \(dilation)) is larger than the padded input \(input) (padding \(padding))")
    }

    var inputShape: [Int] { [batch, inChannels, height, width] }
    var weightShape: [Int] { [outChannels, inPerGroup, kernelHeight, kernelWidth] }
    var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    var inPlane: Int { height &* width }
    var outPlane: Int { outHeight &* outWidth }
    var kernelArea: Int { kernelHeight &* kernelWidth }
    /// Rows of the im2col matrix of one group: `C/groups · kH · kW`.
    var patch: Int { inPerGroup &* kernelArea }
    var paddedHeight: Int { height &+ 2 &* padHeight }
    var paddedWidth: Int { width &+ 2 &* padWidth }

    /// 1×1, stride 1, no padding: the input planes are the im2col matrix.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1 && padHeight == 0 && padWidth == 0
    }

    var usesDirectKernel: Bool {
        groups > 1 && inPerGroup <= Self.directGroupLimit && outPerGroup <= Self.directGroupLimit
    }

    /// The forward convolution with the kernel that suits this geometry, each output plane
    /// mapped by `epilogue` (when given) as it is produced.
    func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                 epilogue: ChannelEpilogue? = nil) {
        if usesDirectKernel {
            ConvDirect.forward(self, x: x, w: w, bias: bias, y: y, epilogue: epilogue)
        } else if ConvWinograd.supports(self) {
            ConvWinograd.forward(self, x: x, w: w, bias: bias, y: y)
            epilogue?.apply(y, shape: outputShape)
        } else if ConvPhaseTaps.supports(self) {
            ConvPhaseTaps.forward(self, x: x, w: w, bias: bias, y: y, epilogue: epilogue)
        } else {
            ConvGEMM.forward(self, x: x, w: w, bias: bias, y: y, epilogue: epilogue)
        }
    }

    /// The geometry of this stride-1 convolution's input gradient as a forward correlation of
    /// `dY` (shape ``outputShape``) with ``flippedKernels(_:)``, padded by `(k − 1)·d − p`:
    ///
    ///     dx[n, c, y, x] = Σ_{o, u, v} w'[c, o, u, v] · dy[n, o, y + u·d − p', x + v·d − p'],   p' = (k − 1)·d − p
    ///
    /// (per group); `nil` for strides above 1 or padding beyond `(k − 1)·d`.
    var inputGradientCorrelation: ConvGeometry? {
        let top = (kernelHeight &- 1) &* dilationHeight &- padHeight
        let left = (kernelWidth &- 1) &* dilationWidth &- padWidth
        guard strideHeight == 1 && strideWidth == 1 && top >= 0 && left >= 0 else { return nil }
        let correlation = ConvGeometry(input: outputShape, weight: [inChannels, outPerGroup, kernelHeight, kernelWidth], bias: nil,
                                       stride: 1, padding: Size2D(top, left), dilation: Size2D(dilationHeight, dilationWidth),
                                       groups: groups)
        precondition(correlation.outputShape == inputShape, "conv2d backward: correlation geometry \(correlation.outputShape) ≠ input \(inputShape)")
        return correlation
    }

    /// The kernels `w` of ``inputGradientCorrelation``: each turned by 180° and each group's
    /// input and output channels exchanged, `w'[c, o, u, v] = w[o, c, kH − 1 − u, kW − 1 − v]`
    /// (storage from the buffer pool).
    func flippedKernels(_ w: UnsafePointer<Float>) -> TensorStorage {
        let area = kernelArea, cg = inPerGroup, og = outPerGroup
        let flipped = TensorStorage(count: inChannels &* og &* area)
        for c in 0..<inChannels {
            let group = c / cg, ci = c % cg
            for o in 0..<og {
                let src = w + ((group &* og &+ o) &* cg &+ ci) &* area, dst = flipped.base + (c &* og &+ o) &* area
                for t in 0..<area { dst[t] = src[area &- 1 &- t] }
            }
        }
        return flipped
    }

    /// Output columns `lo...hi` whose input column `j·s + offset` lies inside `0..<width`
    /// (empty when `lo > hi`).
    @inline(__always)
    func validColumns(offset: Int) -> (lo: Int, hi: Int) {
        let s = strideWidth
        let lo = offset >= 0 ? 0 : (-offset &+ s &- 1) / s
        let last = width &- 1 &- offset
        let hi = last < 0 ? -1 : Swift.min(outWidth &- 1, last / s)
        return (lo, hi)
    }

    /// `Σ_{n, spatial} g[n, c, …]` per channel: the bias gradient.
    static func channelSums(_ g: Tensor, channels: Int) -> Tensor {
        let n = g.shape[0], inner = g.count / Swift.max(n &* channels, 1)
        return Tensor(shape: [channels]) { out in
            let src = g.storage.base, dst = out.baseAddress!
            parallelFor(channels, grain: Swift.max(1, 4096 / Swift.max(inner &* n, 1))) { range in
                for c in range {
                    var s: Float = 0
                    for b in 0..<n { s += Reduce.sum(src + (b &* channels &+ c) &* inner, inner) }
                    dst[c] = s
                }
            }
        }
    }
}
