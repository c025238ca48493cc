import Testing
@testable import Tensor

/// Winograd F(4×4, 3×3) at sizes where one thread's chunk holds several blocks (of tile rows, or
/// of whole images; the naive reference of `ConvolutionTests` is too slow there), against the
/// im2col + GEMM kernels, which `convMatchesNaiveReference` checks.
struct WinogradCase: CustomStringConvertible, Sendable {
    var n: Int, c: Int, h: Int, w: Int, o: Int, padding: Size2D
    var description: String { "x[\(n),\(c),\(h),\(w)] o\(o) p\(padding)" }
}

let winogradCases: [WinogradCase] = [
    WinogradCase(n: 5, c: 16, h: 127, w: 125, o: 24, padding: 1),  // blocks of 21 tile rows (few channels), odd edges, last short
    WinogradCase(n: 3, c: 64, h: 58, w: 66, o: 64, padding: 0),    // blocks of 4 tile rows, last block short
    WinogradCase(n: 3, c: 64, h: 62, w: 60, o: 64, padding: Size2D(2, 1)),  // tile rows, padding 2
    WinogradCase(n: 11, c: 64, h: 16, w: 20, o: 64, padding: 1),   // 3 whole images per block, last block short
    WinogradCase(n: 2, c: 32, h: 88, w: 88, o: 32, padding: 1),    // blocks of 11 tile rows ending in a group of 2 tiles
]

func largestMagnitude(_ a: [Float]) -> Float { a.reduce(0) { Swift.max($0, abs($1)) } }

func relativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) } / Swift.max(largestMagnitude(b), 1)
}

@Test(arguments: winogradCases)
func winogradMatchesIm2colGEMM(_ k: WinogradCase) {
    var rng = RandomGenerator(seed: 11)
    let x = Tensor.randomNormal([k.n, k.c, k.h, k.w], using: &rng).trackingGradients()
    let w = Tensor.randomNormal([k.o, k.c, 3, 3], using: &rng).trackingGradients()
    let g = ConvGeometry(input: x.shape, weight: w.shape, bias: nil, stride: 1, padding: k.padding, dilation: 1, groups: 1)
    #expect(ConvWinograd.supports(g))
    let tiling = ConvWinograd.Tiling(g)
    #expect(tiling.blocks(of: ConvGEMM.images(chunk: 0, of: 2, batch: k.n)).count > 1, "\(k): every chunk must hold several blocks")
    #expect(tiling.tileRowsPerBlock < tiling.tilesY || tiling.imagesPerBlock > 1, "\(k)")

    let y = Tensor.conv2d(x, weight: w, padding: k.padding)
    let dy = Tensor.randomNormal(y.shape, using: &rng)
    let grads = y.backward(gradient: dy)

    let reference = Tensor(shape: g.outputShape) { out in
        ConvGEMM.forward(g, x: x.storage.base, w: w.storage.base, bias: nil, y: out.baseAddress!)
    }
    let referenceDx = Tensor(shape: g.inputShape) { _ in }, referenceDw = Tensor(shape: g.weightShape) { _ in }
    ConvGEMM.backward(g, dy: dy.storage.base, x: x.storage.base, w: w.storage.base,
                      dx: referenceDx.storage.base, dw: referenceDw.storage.base)

    #expect(relativeDifference(y.scalars, reference.scalars) < 1e-5, "forward \(k)")
    #expect(relativeDifference(grads[x]!.scalars, referenceDx.scalars) < 1e-5, "input gradient \(k)")
    #expect(relativeDifference(grads[w]!.scalars, referenceDw.scalars) < 1e-5, "weight gradient \(k)")
}

/// Two identical differentiations give bit-identical weight gradients (fixed thread count).
@Test func winogradWeightGradientIsDeterministic() {
    var rng = RandomGenerator(seed: 13)
    let x = Tensor.randomNormal([6, 16, 12, 14], using: &rng)
    let w = Tensor.randomNormal([16, 16, 3, 3], using: &rng)
    func gradient() -> [Float] {
        let weight = w.trackingGradients()
        return Tensor.conv2d(x, weight: weight, padding: 1).square().sum().backward()[weight]!.scalars
    }
    #expect(gradient() == gradient())
}
