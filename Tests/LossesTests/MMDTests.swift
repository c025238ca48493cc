import Foundation
import Testing
import Tensor
import Layers
@testable import Losses

@Suite("Maximum mean discrepancy")
struct MMDTests {
    /// The NST test vector's normalised channel vectors (methods.md §2).
    static var fS: Tensor { Tensor([[1, 0, 0, 1], [0, 2, 1, 0]]).l2Normalized(axis: 1) }
    static var fT: Tensor { Tensor([[1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]).l2Normalized(axis: 1) }

    @Test func kernelsReproduceVectors() {
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .nstPolynomial).item, 0.494444, "poly")
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .nstPolynomial, includeTargetTerm: false).item, 0.05, "poly, no TT term")
        // The general kernel path (n×m matrices) agrees with the D×D Gram shortcut.
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .polynomial(degree: 2, offset: 1e-30)).item, 0.494444, "poly, kernel path")
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .linear).item, 0.133919, "linear")
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .gaussian()).item, 0.151665, "gaussian, mean-distance bandwidth")
        expectClose(pooledMeanSquaredDistance(Self.fS.unsqueezed(axis: 0), Self.fT.unsqueezed(axis: 0)).item, 1.24702, "σ²")
        expectClose(maximumMeanDiscrepancy(Self.fS, Self.fT, kernel: .gaussian(variance: 1.24702)).item, 0.151665, "gaussian, fixed σ²")
    }

    @Test func multiKernelIsTheMeanOfGaussians() {
        let x = randomTensor([5, 3], seed: 20), y = randomTensor([4, 3], seed: 21)
        let sigma2 = pooledMeanSquaredDistance(x.unsqueezed(axis: 0), y.unsqueezed(axis: 0)).item
        let parts = [0.5, 2].map { maximumMeanDiscrepancy(x, y, kernel: .gaussian(variance: sigma2 * Float($0))).item }
        expectClose(maximumMeanDiscrepancy(x, y, kernel: .multiGaussian(multipliers: [0.5, 2])).item, (parts[0] + parts[1]) / 2, "multi")
    }

    @Test func zeroForIdenticalSetsAndPositiveOtherwise() {
        let x = randomTensor([6, 4], seed: 22), y = randomTensor([6, 4], seed: 23) + 1
        for kernel: MMDKernel in [.linear, .nstPolynomial, .polynomial(degree: 3, offset: 1), .gaussian(), .multiGaussian()] {
            expectClose(maximumMeanDiscrepancy(x, x, kernel: kernel).item, 0, atol: 1e-5, "\(kernel) identical")
            #expect(maximumMeanDiscrepancy(x, y, kernel: kernel).item > 1e-3, "\(kernel) different")
        }
    }

    @Test func batchedEqualsPerElement() {
        let x = randomTensor([2, 5, 3], seed: 24), y = randomTensor([2, 4, 3], seed: 25)
        let batched = maximumMeanDiscrepancy(x, y, kernel: .gaussian()).scalars
        let single = (0..<2).map { maximumMeanDiscrepancy(x.sliced(axis: 0, $0..<($0 + 1)).squeezed(axis: 0),
                                                          y.sliced(axis: 0, $0..<($0 + 1)).squeezed(axis: 0), kernel: .gaussian()).item }
        expectClose(batched, single, "batched")
    }

    @Test func gradientCheck() {
        let x = randomTensor([4, 3], seed: 26), y = randomTensor([3, 3], seed: 27)
        // The bandwidth rule is a constant of each step, so check with fixed bandwidths.
        for kernel: MMDKernel in [.linear, .nstPolynomial, .polynomial(degree: 3, offset: 0.5), .gaussian(variance: 1.5),
                                  .multiGaussian(variance: 2)] {
            expectGradientsMatch([x, y]) { maximumMeanDiscrepancy($0[0], $0[1], kernel: kernel) }
        }
    }

    @Test func bandwidthRuleIsAConstantOfTheStep() {
        let x = randomTensor([4, 3], seed: 26), y = randomTensor([3, 3], seed: 27)
        let rule = pooledMeanSquaredDistance(x.unsqueezed(axis: 0), y.unsqueezed(axis: 0)).item
        for (ruled, fixed): (MMDKernel, MMDKernel) in [(.gaussian(), .gaussian(variance: rule)),
                                                      (.multiGaussian(), .multiGaussian(variance: rule))] {
            let xa = x.trackingGradients(), xb = x.trackingGradients()
            let a = maximumMeanDiscrepancy(xa, y, kernel: ruled), b = maximumMeanDiscrepancy(xb, y, kernel: fixed)
            expectClose(a.item, b.item, "\(ruled) value")
            expectClose(a.backward()[xa]!.scalars, b.backward()[xb]!.scalars, "\(ruled) gradient")
        }
    }

    @Test func degenerateSets() {
        let x = randomTensor([4, 3], seed: 40)
        // One vector per set: the linear MMD is the squared distance between them.
        let a = x.sliced(axis: 0, 0..<1), b = x.sliced(axis: 0, 1..<2)
        expectClose(maximumMeanDiscrepancy(a, b, kernel: .linear).item, (a - b).square().sum().item, "one vector each")
        // All vectors equal: the rule's mean distance is 0, and the bandwidth falls back to 1 (finite, zero MMD).
        let same = Tensor.ones([3, 3])
        for kernel: MMDKernel in [.gaussian(), .multiGaussian()] {
            let value = maximumMeanDiscrepancy(same, same, kernel: kernel).item
            #expect(value.isFinite && abs(value) < 1e-6, "\(kernel): \(value)")
        }
        let different = maximumMeanDiscrepancy(same, 2 * same, kernel: .gaussian()).item
        // σ² = the mean squared distance over the 30 ordered pairs of the 6 vectors: 18 cross pairs at 3 → 1.8.
        expectClose(different, 2 * (1 - Foundation.exp(-3 / (2 * 1.8))), "two sets of one repeated point each")
    }

    @Test func domainLossOnEmbeddings() {
        let hr = randomTensor([6, 4], seed: 28), lr = randomTensor([5, 4], seed: 29)
        let mmd = MMDTransfer()
        // Source = teacher by default, or an explicit source batch of another size.
        let viaSource = mmd(TransferContext(student: Features(embedding: lr), source: Features(embedding: hr)))
        expectClose(viaSource.item, mmd.discrepancy(source: hr, target: lr).item, "source batch")
        let same = mmd(TransferContext(student: Features(embedding: hr), teacher: Features(embedding: hr)))
        expectClose(same.item, 0, atol: 1e-5, "identical")
        let fixed = MMDTransfer(kernel: .multiGaussian(variance: 0.5))
        expectGradientsMatch([lr]) { fixed.discrepancy(source: hr, target: $0[0]) }
    }
}
