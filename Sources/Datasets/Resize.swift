import Tensor

/// Resampling filters for ``Image/resized(width:height:interpolation:antialias:)``.
public enum Interpolation: String, Sendable, CaseIterable, Codable {
    /// The source pixel whose centre is nearest: `src = ⌊(x + ½) · in/out⌋`.
    case nearest
    /// Triangle filter `max(0, 1 − |t|)`, support 1.
    case bilinear
    /// Keys cubic with `a = −½` (Pillow's and Matlab's choice), support 2:
    /// `(a+2)|t|³ − (a+3)|t|² + 1` for `|t| < 1`, `a|t|³ − 5a|t|² + 8a|t| − 4a` for `1 ≤ |t| < 2`.
    case bicubic
    /// Box filter, support ½ (Pillow's `BOX`): with antialiasing, the plain mean of the source
    /// pixels whose centres fall inside the output pixel (weight 1 or 0, never a fraction of a
    /// partly covered pixel). That is the average of the covered area, and equals OpenCV's
    /// `INTER_AREA`, only for integer factors: `[0, 0, 255]` shrunk to width 2 gives `[0, 255]`
    /// (`INTER_AREA`: `[0, 170]`).
    case area
}

/// Separable convolution resampling that reproduces Pillow's `Image.resize` (Pillow ≥ 7,
/// `Resample.c`; verified against Pillow 13 in the tests).
///
/// For an axis of `n` source and `m` output pixels, `s = n/m`. Output pixel `i` has its centre
/// at `c = (i + ½)s` in source coordinates. When shrinking (`s > 1`) with `antialias` the filter
/// is stretched by `σ = s` (a low-pass at the new Nyquist rate); otherwise `σ = 1`. The taps are
/// the source pixels `j` with `⌊c − r + ½⌋ ≤ j < ⌊c + r + ½⌋` (clipped to the image), where
/// `r = support · σ`, weighted by `filter((j + ½ − c)/σ)` and normalised to sum 1 (which also
/// handles the borders). The horizontal pass runs first, then the vertical one, in float;
/// like Pillow on 8-bit images, each pass clamps to `0...255` (bicubic overshoots), but
/// nothing is rounded.
extension Image {
    /// The image resampled to `width × height`.
    public func resized(width: Int, height: Int, interpolation: Interpolation = .bicubic, antialias: Bool = true) -> Image {
        precondition(width >= 1 && height >= 1, "Image.resized: target size \(width)x\(height) must be positive")
        precondition(self.width >= 1 && self.height >= 1, "Image.resized: cannot resize an empty \(self.width)x\(self.height) image")
        if width == self.width && height == self.height { return self }
        if interpolation == .nearest { return nearestResized(width: width, height: height) }
        var image = self
        if width != self.width {
            image = image.resampled(axisLength: width, horizontal: true,
                                    taps: ResampleTaps(input: self.width, output: width, filter: interpolation, antialias: antialias))
        }
        if height != self.height {
            image = image.resampled(axisLength: height, horizontal: false,
                                    taps: ResampleTaps(input: self.height, output: height, filter: interpolation, antialias: antialias))
        }
        return image
    }

    /// The image resampled so that its shorter side is `side`, keeping the aspect ratio
    /// (the longer side is rounded to nearest).
    public func resized(shorterSide side: Int, interpolation: Interpolation = .bicubic, antialias: Bool = true) -> Image {
        let (w, h) = Image.size(shorterSide: side, width: width, height: height)
        return resized(width: w, height: h, interpolation: interpolation, antialias: antialias)
    }

    /// The size with shorter side `side` and the aspect ratio of `width × height`.
    /// The size with shorter side `side` and `width × height`'s aspect ratio; it must stay within
    /// ``maximumPixelCount`` (a spec's side limit holds for squares: a 1024×32768 image at a
    /// shorter side of 5792 would be 5792×185344 pixels, 12.9 GB as RGB floats).
    static func size(shorterSide side: Int, width: Int, height: Int) -> (width: Int, height: Int) {
        precondition(side >= 1, "Image.resized(shorterSide:): side must be positive, got \(side)")
        let size = width <= height ? (side, max(1, Int((Double(height) * Double(side) / Double(width)).rounded())))
                                   : (max(1, Int((Double(width) * Double(side) / Double(height)).rounded())), side)
        // Sides first: each within the limit, their product cannot overflow.
        precondition(size.0 <= maximumPixelCount && size.1 <= maximumPixelCount && size.0 * size.1 <= maximumPixelCount,
                     "Image.resized(shorterSide: \(side)) of a \(width)x\(height) image would be \(size.0)x\(size.1), over the limit of \(maximumPixelCount) pixels (Image.maximumPixelCount)")
        return size
    }

    private func nearestResized(width: Int, height: Int) -> Image {
        let xs = (0..<width).map { min(self.width - 1, Int((Double($0) + 0.5) * Double(self.width) / Double(width))) }
        let ys = (0..<height).map { min(self.height - 1, Int((Double($0) + 0.5) * Double(self.height) / Double(height))) }
        let inPlane = self.width * self.height, outPlane = width * height, inWidth = self.width
        return pixels.withUnsafeBufferPointer { src in
            Image(width: width, height: height, channels: channels) { out in
                for c in 0..<channels {
                    for y in 0..<height {
                        let row = src.baseAddress! + (c &* inPlane &+ ys[y] &* inWidth)
                        let dst = out.baseAddress! + (c &* outPlane &+ y &* width)
                        for x in 0..<width { dst[x] = row[xs[x]] }
                    }
                }
            }
        }
    }

    /// One separable pass along x (`horizontal`) or y.
    private func resampled(axisLength: Int, horizontal: Bool, taps: ResampleTaps) -> Image {
        let outWidth = horizontal ? axisLength : width, outHeight = horizontal ? height : axisLength
        let inWidth = width, inHeight = height
        let k = taps.stride
        return pixels.withUnsafeBufferPointer { src in
            taps.weights.withUnsafeBufferPointer { weights in
                Image(width: outWidth, height: outHeight, channels: channels) { out in
                    let w = weights.baseAddress!
                    for c in 0..<channels {
                        let plane = src.baseAddress! + c &* inWidth &* inHeight
                        let target = out.baseAddress! + c &* outWidth &* outHeight
                        if horizontal {
                            for y in 0..<inHeight {
                                let row = plane + y &* inWidth
                                let dst = target + y &* outWidth
                                for x in 0..<outWidth {
                                    let first = taps.first[x], n = taps.count[x]
                                    let wx = w + x &* k
                                    var sum: Float = 0
                                    for t in 0..<n { sum += row[first &+ t] * wx[t] }
                                    dst[x] = min(max(sum, 0), 255)
                                }
                            }
                        } else {
                            for y in 0..<outHeight {
                                let dst = target + y &* outWidth
                                let first = taps.first[y], n = taps.count[y]
                                let wy = w + y &* k
                                for x in 0..<outWidth { dst[x] = 0 }
                                for t in 0..<n {
                                    let row = plane + (first &+ t) &* inWidth
                                    let weight = wy[t]
                                    for x in 0..<outWidth { dst[x] += row[x] * weight }
                                }
                                for x in 0..<outWidth { dst[x] = min(max(dst[x], 0), 255) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per-output-pixel tap ranges and normalised weights along one axis.
struct ResampleTaps {
    /// First source index of each output pixel.
    var first: [Int] = []
    /// Number of taps of each output pixel.
    var count: [Int] = []
    /// `stride` weights per output pixel (unused ones are 0).
    var weights: [Float] = []
    let stride: Int

    init(input: Int, output: Int, filter: Interpolation, antialias: Bool) {
        let scale = Double(input) / Double(output)
        let sigma = antialias ? max(scale, 1) : 1
        let support = Self.support(filter) * sigma
        stride = Int(support.rounded(.up)) * 2 + 1
        weights = [Float](repeating: 0, count: output * stride)
        first.reserveCapacity(output)
        count.reserveCapacity(output)
        for i in 0..<output {
            let centre = (Double(i) + 0.5) * scale
            let lo = max(0, Int(centre - support + 0.5))
            let hi = min(input, Int(centre + support + 0.5))
            var values = (lo..<max(lo, hi)).map { Self.kernel(filter, (Double($0) - centre + 0.5) / sigma) }
            let total = values.reduce(0, +)
            if total != 0 { values = values.map { $0 / total } }
            first.append(lo)
            count.append(min(values.count, stride))
            for (t, v) in values.prefix(stride).enumerated() { weights[i * stride + t] = Float(v) }
        }
    }

    static func support(_ filter: Interpolation) -> Double {
        switch filter {
        case .nearest, .area: return 0.5
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    static func kernel(_ filter: Interpolation, _ t: Double) -> Double {
        switch filter {
        case .nearest, .area:
            return t > -0.5 && t <= 0.5 ? 1 : 0
        case .bilinear:
            let x = abs(t)
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5, x = abs(t)
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}
