import Foundation
import Tensor

/// Separable Gaussian blur with the sampled kernel `w(t) ∝ exp(−t² / 2σ²)`, `|t| ≤ r`,
/// `r = ⌊3σ + ½⌋`, normalised to sum 1, and mirrored borders (`dcb|abcd|cba`, OpenCV's
/// `BORDER_REFLECT_101`). This equals `scipy.ndimage.gaussian_filter(mode="mirror",
/// truncate=3)`; the tests check it against SciPy. For `σ < 1/6` the radius is 0 and the
/// one-tap kernel is the identity, so the axis is left alone (as SciPy leaves it).
extension Image {
    /// The image blurred with standard deviation `sigma` pixels on both axes.
    public func gaussianBlurred(sigma: Float) -> Image { gaussianBlurred(sigmaX: sigma, sigmaY: sigma) }

    /// The image blurred with per-axis standard deviations (an axis with `σ ≤ 0`, or with
    /// `σ < 1/6` whose kernel radius is 0, is left alone; anisotropic blur like `(0.1, 2.0)` is
    /// what teaching-where-to-look applies, though with its own fixed 5-tap kernel). `σ` must
    /// not be infinite.
    public func gaussianBlurred(sigmaX: Float, sigmaY: Float) -> Image {
        precondition(!sigmaX.isInfinite && !sigmaY.isInfinite, "Image.gaussianBlurred: σ must be finite, got (\(sigmaX), \(sigmaY))")
        var image = self
        if sigmaX > 0, Image.gaussianRadius(sigma: sigmaX) > 0 {
            image = image.convolved(kernel: Image.gaussianKernel(sigma: sigmaX), horizontal: true)
        }
        if sigmaY > 0, Image.gaussianRadius(sigma: sigmaY) > 0 {
            image = image.convolved(kernel: Image.gaussianKernel(sigma: sigmaY), horizontal: false)
        }
        return image
    }

    /// `⌊3σ + ½⌋`, the kernel's half-width.
    static func gaussianRadius(sigma: Float) -> Int { Int(3 * Double(sigma) + 0.5) }

    static func gaussianKernel(sigma: Float) -> [Float] {
        let radius = gaussianRadius(sigma: sigma)
        // σ² in Double: in Float it underflows to 0 below σ ≈ 2.6e-23, and the centre tap 0/0 is NaN.
        let variance = Double(sigma) * Double(sigma)
        let weights = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / variance) }
        let total = weights.reduce(0, +)
        return weights.map { Float($0 / total) }
    }

    /// Mirror index into `0..<n` (reflect-101), for any integer.
    static func mirrored(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let period = 2 * (n - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }

    private func convolved(kernel: [Float], horizontal: Bool) -> Image {
        let radius = kernel.count / 2
        let w = width, h = height
        let length = horizontal ? w : h
        // Source index of each tap for each output position along the axis.
        let index = (0..<length).flatMap { p in (-radius...radius).map { Image.mirrored(p + $0, length) } }
        let taps = kernel.count
        return pixels.withUnsafeBufferPointer { src in
            Image(width: w, height: h, channels: channels) { out in
                kernel.withUnsafeBufferPointer { k in
                    index.withUnsafeBufferPointer { idx in
                        for c in 0..<channels {
                            let plane = src.baseAddress! + c &* w &* h, target = out.baseAddress! + c &* w &* h
                            if horizontal {
                                for y in 0..<h {
                                    let row = plane + y &* w, dst = target + y &* w
                                    for x in 0..<w {
                                        var sum: Float = 0
                                        let base = x &* taps
                                        for t in 0..<taps { sum += row[idx[base &+ t]] * k[t] }
                                        dst[x] = sum
                                    }
                                }
                            } else {
                                for y in 0..<h {
                                    let dst = target + y &* w
                                    for x in 0..<w { dst[x] = 0 }
                                    let base = y &* taps
                                    for t in 0..<taps {
                                        let row = plane + idx[base &+ t] &* w, weight = k[t]
                                        for x in 0..<w { dst[x] += row[x] * weight }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
