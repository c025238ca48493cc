import Foundation
import Testing
import Tensor
@testable import Datasets
import TestSupport

private func ramp(_ w: Int, _ h: Int, _ c: Int) -> Image {
    Image(width: w, height: h, channels: c, pixels: (0..<(w * h * c)).map { Float($0 % 256) })
}

@Test func cropCentreCropAndFlip() {
    let image = ramp(5, 4, 3)
    let crop = image.cropped(x: 1, y: 2, width: 3, height: 2)
    #expect(crop.width == 3 && crop.height == 2 && crop.channels == 3)
    #expect(crop[0, 0, 0] == image[1, 2, 0] && crop[2, 1, 2] == image[3, 3, 2])
    let centre = image.centreCropped(width: 2, height: 2)
    #expect(centre[0, 0, 1] == image[2, 1, 1])  // offsets round(3/2) = 2 (half to even), 2/2 = 1
    let flipped = image.horizontallyFlipped()
    #expect(flipped[0, 3, 2] == image[4, 3, 2] && flipped[4, 0, 0] == image[0, 0, 0])
    #expect(flipped.horizontallyFlipped() == image)
}

/// Centre-crop offsets are torchvision's `int(round((W − w) / 2))`, Python's round half to even:
/// they used to round down, one pixel left of torchvision when `W − w ≡ 3 (mod 4)`.
@Test func centreCropRoundsHalfToEvenLikeTorchvision() {
    // (source width, offset): margins 3, 1, 2, 4, 5 → round(1.5) = 2, round(0.5) = 0, 1, 2, round(2.5) = 2.
    for (side, offset) in [(115, 2), (113, 0), (114, 1), (116, 2), (117, 2)] {
        // A horizontal ramp (value x) plus a vertical one (1000·y).
        let image = Image(width: side, height: 3, channels: 1) { out in
            for y in 0..<3 { for x in 0..<side { out[y * side + x] = Float(x + 1000 * y) } }
        }
        let crop = image.centreCropped(width: 112, height: 1)
        #expect(crop.width == 112 && crop.pixels.first == Float(offset + 1000) && crop.pixels.last == Float(offset + 111 + 1000), "\(side) → 112")
    }
    // Both axes, directly: 7 → 4 (margin 3) starts at row 2, 5 → 4 at row 0.
    let tall = Image(width: 1, height: 7, channels: 1, pixels: (0..<7).map { Float($0) })
    #expect(tall.centreCropped(width: 1, height: 4).pixels == [2, 3, 4, 5])
    let short = Image(width: 1, height: 5, channels: 1, pixels: (0..<5).map { Float($0) })
    #expect(short.centreCropped(width: 1, height: 4).pixels == [0, 1, 2, 3])
}

@Test func normalisationAndTensors() {
    let image = Image(width: 2, height: 1, channels: 1, pixels: [0, 255])
    let t = image.tensor()
    #expect(t.shape == [1, 1, 2])
    let expected: [Float] = [-127.5 / 128, 127.5 / 128]
    #expect(t.scalars == expected)
    let batch = Image.batchTensor([ramp(3, 2, 3), ramp(3, 2, 3).horizontallyFlipped()], .unit)
    #expect(batch.shape == [2, 3, 2, 3])
    let mirroredValue = ramp(3, 2, 3)[2, 1, 2] / 255
    #expect(batch[1, 2, 1, 0] == mirroredValue)
    let back = Image(t)
    #expect(Fixtures.maxDifference(back.pixels, image.pixels) < 1e-4)
}

@Suite(.enabled(if: Python.has("scipy", "numpy"), "python3 with scipy and numpy is not installed"))
struct GaussianBlurTests {
    @Test func matchesSciPy() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run("""
        import numpy as np
        from scipy.ndimage import gaussian_filter
        rng = np.random.default_rng(1)
        src = rng.uniform(0, 255, (3, 9, 11)).astype(np.float32)
        src.tofile('src.f32')
        for i, (sx, sy) in enumerate([(1.0, 1.0), (0.6, 2.3), (0.1, 2.0), (4.0, 0.5)]):
            out = np.stack([gaussian_filter(p.astype(np.float64), (sy, sx), mode='mirror', truncate=3.0) for p in src])
            out.astype(np.float32).tofile(f'blur{i}.f32')
        """, in: dir)
        let image = Image(width: 11, height: 9, channels: 3, pixels: try Fixtures.floats(dir.appendingPathComponent("src.f32")))
        for (i, (sx, sy)) in [(Float(1), Float(1)), (0.6, 2.3), (0.1, 2.0), (4.0, 0.5)].enumerated() {
            let expected = try Fixtures.floats(dir.appendingPathComponent("blur\(i).f32"))
            #expect(Fixtures.maxDifference(image.gaussianBlurred(sigmaX: sx, sigmaY: sy).pixels, expected) < 1e-3, "σ = (\(sx), \(sy))")
        }
    }
}

/// σ² was computed in Float, which underflows to 0 below σ ≈ 2.6e-23: the centre tap was 0/0
/// and every pixel NaN. A radius-0 kernel (σ < 1/6) leaves the axis alone.
@Test func tinySigmaBlurLeavesTheImageUnchanged() {
    let flat = Image(width: 6, height: 5, channels: 3, value: 42)
    #expect(flat.gaussianBlurred(sigma: 1e-30) == flat)
    #expect(Image.gaussianKernel(sigma: 1e-30) == [1] && Image.gaussianKernel(sigma: .leastNonzeroMagnitude) == [1])
    let image = ramp(7, 5, 1)
    #expect(image.gaussianBlurred(sigma: 0.16) == image)
    #expect(image.gaussianBlurred(sigmaX: 1e-30, sigmaY: 1.2) == image.gaussianBlurred(sigmaX: 0, sigmaY: 1.2))
    #expect(image.gaussianBlurred(sigma: 0.17) != image)  // radius ⌊3·0.17 + ½⌋ = 1
}

@Test func blurPreservesConstantsAndMean() {
    let flat = Image(width: 6, height: 5, channels: 1, value: 42)
    #expect(flat.gaussianBlurred(sigma: 1.7).pixels.allSatisfy { abs($0 - 42) < 1e-4 })
    #expect(flat.gaussianBlurred(sigma: 0) == flat)
    #expect(Image.mirrored(-1, 4) == 1 && Image.mirrored(4, 4) == 2 && Image.mirrored(9, 4) == 3 && Image.mirrored(-7, 1) == 0)
}

@Test func noiseHasTheRequestedSpreadAndIsSeeded() {
    let grey = Image(width: 64, height: 64, channels: 1, value: 128)
    var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
    let noisy = grey.addingGaussianNoise(sigma: 10, using: &a)
    #expect(noisy == grey.addingGaussianNoise(sigma: 10, using: &b))
    let deviations = noisy.pixels.map { $0 - 128 }
    let mean = deviations.reduce(0, +) / Float(deviations.count)
    let std = (deviations.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(deviations.count)).squareRoot()
    #expect(abs(mean) < 0.5 && abs(std - 10) < 0.5)
    var c = RandomGenerator(seed: 1)
    #expect(Image(width: 8, height: 8, channels: 1, value: 250).addingGaussianNoise(sigma: 50, using: &c).pixels.allSatisfy { $0 <= 255 && $0 >= 0 })
}

@Test func occlusionFillsTheClippedRectangle() {
    let image = ramp(6, 5, 3).occluded(x: 4, y: -1, width: 5, height: 3, value: 7)
    for c in 0..<3 {
        for y in 0..<5 {
            for x in 0..<6 {
                let inside = x >= 4 && y < 2
                #expect((image[x, y, c] == 7) == (inside || ramp(6, 5, 3)[x, y, c] == 7))
            }
        }
    }
}

@Test func jpegRecompressionLosesMoreAtLowQuality() {
    var rng = RandomGenerator(seed: 2)
    let image = Image(width: 32, height: 32, channels: 3) { out in
        for i in 0..<out.count { out[i] = Float(i % 32) * 6 + 20 * rng.nextUniform() }
    }
    func error(_ q: Int) -> Float {
        let out = image.jpegRecompressed(quality: q)
        return zip(out.pixels, image.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(image.count)
    }
    #expect(error(95) < error(40) && error(40) < error(5))
    #expect(image.grey().jpegRecompressed(quality: 50).channels == 1)
}
