import Testing
import Tensor
@testable import Layers

private func moments(_ t: Tensor) -> (mean: Double, std: Double, maxAbs: Double) {
    let v = t.scalars.map(Double.init)
    let m = v.reduce(0, +) / Double(v.count)
    let s = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)).squareRoot()
    return (m, s, v.map(abs).max()!)
}

@Test func initializerScalesFollowPyTorchFormulas() {
    var g = RandomGenerator(seed: 61)
    let shape = [64, 32, 3, 3]  // fanIn 288, fanOut 576
    #expect(Initializer.fans(shape) == (288, 576))
    let kn = moments(Initializer.kaimingNormal(mode: .fanOut, nonlinearity: .relu).tensor(shape, using: &g))
    #expect(abs(kn.std - (2.0 / 576).squareRoot()) < 0.002 && abs(kn.mean) < 0.002)
    let ku = moments(Initializer.kaimingUniform().tensor(shape, using: &g))
    let kuBound = (2.0).squareRoot() * (3.0 / 288).squareRoot()
    #expect(ku.maxAbs <= kuBound && abs(ku.std - kuBound / (3.0).squareRoot()) < 0.003)
    let pd = moments(Initializer.pytorchDefault.tensor(shape, using: &g))
    #expect(pd.maxAbs <= 1 / (288.0).squareRoot())
    let xu = moments(Initializer.xavierUniform(gain: 2).tensor(shape, using: &g))
    #expect(xu.maxAbs <= 2 * (6.0 / 864).squareRoot())
    let xn = moments(Initializer.xavierNormal().tensor(shape, using: &g))
    #expect(abs(xn.std - (2.0 / 864).squareRoot()) < 0.002)
    #expect(Initializer.constant(0.5).tensor([3], using: &g).scalars == [0.5, 0.5, 0.5])
    #expect(abs(Initializer.Nonlinearity.leakyRelu(negativeSlope: Float(5).squareRoot()).gain - (1.0 / 3).squareRoot()) < 1e-6)
}

@Test(arguments: [[3, 7], [7, 3], [4, 2, 2, 2]])
func orthogonalInitializerIsOrthonormal(_ shape: [Int]) {
    var g = RandomGenerator(seed: 62)
    let w = Initializer.orthogonal(gain: 1).tensor(shape, using: &g)
    #expect(w.shape == shape)
    let m = w.reshaped(to: [shape[0], -1])
    // Rows orthonormal when wide, columns when tall.
    let gram = m.shape[0] <= m.shape[1] ? m.matmul(m, transposeOther: true) : m.matmul(m, transposeSelf: true)
    let k = gram.shape[0]
    for i in 0..<k { for j in 0..<k { #expect(abs(gram[i, j] - (i == j ? 1 : 0)) < 1e-5) } }
}
