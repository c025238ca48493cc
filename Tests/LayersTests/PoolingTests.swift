import Testing
import Tensor
@testable import Layers

/// Naive pooling of one [H, W] plane; `average` with `includePad` divides by the window size.
private func naivePool(_ plane: [Float], h: Int, w: Int, k: Int, s: Int, p: Int, average: Bool, includePad: Bool) -> [Float] {
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var out: [Float] = []
    for i in 0..<ho {
        for j in 0..<wo {
            var best = -Float.infinity, sum: Float = 0, n = 0
            for u in 0..<k {
                for v in 0..<k {
                    let y = i * s + u - p, x = j * s + v - p
                    guard y >= 0, y < h, x >= 0, x < w else { continue }
                    best = max(best, plane[y * w + x]); sum += plane[y * w + x]; n += 1
                }
            }
            out.append(average ? sum / Float(includePad ? k * k : n) : best)
        }
    }
    return out
}

@Test(arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
func poolingMatchesNaive(_ config: (Int, Int, Int)) {
    let (k, s, p) = config
    var g = RandomGenerator(seed: 31)
    let x = Tensor.randomNormal([2, 2, 5, 6], using: &g)
    let xs = x.scalars
    let maxPool = MaxPool2d(kernelSize: Size2D(k, k), stride: Size2D(s, s), padding: Size2D(p, p))(x)
    let avgPool = x.avgPool2d(kernelSize: Size2D(k, k), stride: Size2D(s, s), padding: Size2D(p, p))
    let avgValid = x.avgPool2d(kernelSize: Size2D(k, k), stride: Size2D(s, s), padding: Size2D(p, p), countIncludePad: false)
    var expectedMax: [Float] = [], expectedAvg: [Float] = [], expectedValid: [Float] = []
    for plane in 0..<4 {
        let values = Array(xs[(plane * 30)..<((plane + 1) * 30)])
        expectedMax += naivePool(values, h: 5, w: 6, k: k, s: s, p: p, average: false, includePad: false)
        expectedAvg += naivePool(values, h: 5, w: 6, k: k, s: s, p: p, average: true, includePad: true)
        expectedValid += naivePool(values, h: 5, w: 6, k: k, s: s, p: p, average: true, includePad: false)
    }
    #expect(maxPool.scalars == expectedMax)
    #expect(zip(avgPool.scalars, expectedAvg).allSatisfy { abs($0 - $1) < 1e-5 })
    #expect(zip(avgValid.scalars, expectedValid).allSatisfy { abs($0 - $1) < 1e-5 })
    // Distinct, well separated values keep the max differentiable under ±ε.
    let distinct = Tensor(shape: [1, 2, 5, 6], scalars: (0..<60).map { Float(($0 * 37) % 60) * 0.1 })
    let maxReport = GradientCheck.run([distinct]) { t in t[0].maxPool2d(kernelSize: Size2D(k, k), stride: Size2D(s, s), padding: Size2D(p, p)) }
    #expect(maxReport.passed, "\(maxReport)")
    for include in [true, false] {
        let avgReport = GradientCheck.run([x]) { t in
            t[0].avgPool2d(kernelSize: Size2D(k, k), stride: Size2D(s, s), padding: Size2D(p, p), countIncludePad: include)
        }
        #expect(avgReport.passed, "\(avgReport)")
    }
}

/// Different kernel, stride and padding along the two axes (the kernels keep them apart).
@Test func poolingGradientsWithRectangularSettings() {
    let (kernel, stride, padding) = (Size2D(2, 3), Size2D(1, 2), Size2D(1, 0))
    let distinct = Tensor(shape: [1, 2, 5, 6], scalars: (0..<60).map { Float(($0 * 37) % 60) * 0.1 })
    let maxReport = GradientCheck.run([distinct]) { t in t[0].maxPool2d(kernelSize: kernel, stride: stride, padding: padding) }
    #expect(maxReport.passed, "\(maxReport)")
    for include in [true, false] {
        let avgReport = GradientCheck.run([distinct]) { t in
            t[0].avgPool2d(kernelSize: kernel, stride: stride, padding: padding, countIncludePad: include)
        }
        #expect(avgReport.passed, "\(avgReport)")
    }
}

@Test func globalAveragePool() {
    var g = RandomGenerator(seed: 32)
    let x = Tensor.randomNormal([2, 3, 4, 5], using: &g)
    let y = GlobalAveragePool2d()(x)
    let reference = x.mean(alongAxes: [2, 3])
    #expect(y.shape == [2, 3] && zip(y.scalars, reference.scalars).allSatisfy { abs($0 - $1) < 1e-6 })
    let report = GradientCheck.run([x]) { t in t[0].globalAveragePool2d() }
    #expect(report.passed, "\(report)")
    let layers: [any Layer] = [MaxPool2d(kernelSize: 2), AvgPool2d(kernelSize: 3, stride: 1, padding: 1)]
    for layer in layers {
        let r = GradientCheck.run([Tensor.randomUniform([1, 1, 4, 4], using: &g)]) { t in layer(t[0]) }
        #expect(r.passed, "\(type(of: layer)): \(r)")
    }
}
