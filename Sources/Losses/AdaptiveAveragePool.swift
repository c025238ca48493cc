import Tensor

/// Adaptive average pooling of `[B, C, H, W]` maps to `[B, C, outputHeight, outputWidth]`
/// (PyTorch `adaptive_avg_pool2d`): output cell `(i, j)` averages rows
/// `⌊iH/h⌋ ..< ⌈(i+1)H/h⌉` and columns `⌊jW/w⌋ ..< ⌈(j+1)W/w⌉`. With `H` a multiple of `h` this is
/// plain `H/h`-average pooling. Used by NST to bring teacher and student maps to one size.
public func adaptiveAveragePool2D(_ x: Tensor, outputHeight: Int, outputWidth: Int) -> Tensor {
    precondition(x.rank == 4, "adaptiveAveragePool2D: needs [B, C, H, W], got \(x.shape)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    precondition(outputHeight > 0 && outputWidth > 0 && outputHeight <= h && outputWidth <= w,
                 "adaptiveAveragePool2D: output \(outputHeight)×\(outputWidth) must be positive and at most the input's \(h)×\(w)")
    if outputHeight == h && outputWidth == w { return x }
    let rows = (0..<outputHeight).map { (i: Int) -> Range<Int> in (i * h / outputHeight)..<(((i + 1) * h + outputHeight - 1) / outputHeight) }
    let columns = (0..<outputWidth).map { (j: Int) -> Range<Int> in (j * w / outputWidth)..<(((j + 1) * w + outputWidth - 1) / outputWidth) }
    let outShape = [x.shape[0], x.shape[1], outputHeight, outputWidth]
    let value = Tensor(shape: outShape) { out in
        let src = x.storage.base, dst = out.baseAddress!
        parallelFor(planes, grain: 16) { range in
            for p in range {
                let plane = src + p &* h &* w
                for (i, r) in rows.enumerated() {
                    for (j, c) in columns.enumerated() {
                        var total: Float = 0
                        for row in r { for column in c { total += plane[row &* w &+ column] } }
                        dst[(p &* outputHeight &+ i) &* outputWidth &+ j] = total / Float(r.count * c.count)
                    }
                }
            }
        }
    }
    guard Tensor.needsGradient(x) else { return value }
    let inShape = x.shape
    return Tensor.recordOperation("adaptiveAveragePool2D", value: value, inputs: [x]) { g in
        [Tensor(shape: inShape) { out in
            let src = g.storage.base, dst = out.baseAddress!
            memset(dst, 0, out.count * 4)
            parallelFor(planes, grain: 16) { range in
                for p in range {
                    let plane = dst + p &* h &* w
                    for (i, r) in rows.enumerated() {
                        for (j, c) in columns.enumerated() {
                            let share = src[(p &* outputHeight &+ i) &* outputWidth &+ j] / Float(r.count * c.count)
                            for row in r { for column in c { plane[row &* w &+ column] += share } }
                        }
                    }
                }
            }
        }]
    }
}

import Foundation
