import Testing
import Tensor
@testable import Layers

/// Synchronised BatchNorm without MPI: `replicas` identical processes, each holding this
/// process's batch, so every cross-process sum is `replicas` times the local value. The global
/// batch's statistics are then the local ones (over `replicas`× as many values), so output and
/// input gradient must be plain BatchNorm's; the running variance's unbiased correction uses
/// the global count. (Two real processes: `DataParallelTrainingTests`.)
private final class IdenticalReplicas: CrossProcessSum {
    let replicas: Int
    private(set) var calls = 0
    init(_ replicas: Int) { self.replicas = replicas }
    func sum(_ values: [Float]) -> [Float] {
        calls += 1
        return values.map { $0 * Float(replicas) }
    }
}

@Test func summedAcrossProcessesAndItsGradient() {
    var g = RandomGenerator(seed: 40)
    let x = Tensor.randomNormal([2, 3], using: &g)
    let replicas = IdenticalReplicas(3)
    #expect(x.summed(across: replicas).scalars == x.scalars.map { $0 * 3 })
    let check = GradientCheck.run([x]) { t in t[0].summed(across: replicas).square() }
    #expect(check.passed, "\(check)")
}

@Test(arguments: [[4, 3, 3, 5], [6, 3]])
func synchronisedBatchNormOfIdenticalReplicasIsPlainBatchNorm(_ shape: [Int]) {
    var g = RandomGenerator(seed: 41)
    let x = Tensor.randomNormal(shape, mean: 1.5, standardDeviation: 2, using: &g)
    let plain = shape.count == 4 ? BatchNorm2d(3) as BatchNorm : BatchNorm1d(3)
    let synchronised = shape.count == 4 ? BatchNorm2d(3) as BatchNorm : BatchNorm1d(3)
    for bn in [plain, synchronised] {
        bn.weight!.value = Tensor([2, 0.5, -1])
        bn.bias!.value = Tensor([0.1, 0.2, 0.3])
    }
    let replicas = IdenticalReplicas(4)
    synchronised.synchronisation = replicas
    let input = x.trackingGradients(), cotangent = Tensor.randomNormal(shape, using: &g)
    let expected = plain(input), actual = synchronised(input)
    #expect(replicas.calls == 3, "the count, the mean and the variance are summed across processes")
    #expect(zip(actual.scalars, expected.scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
    let plainGradients = (expected * cotangent).sum().backward(), syncGradients = (actual * cotangent).sum().backward()
    let dx = (plainGradients[input]!.scalars, syncGradients[input]!.scalars)
    #expect(zip(dx.0, dx.1).allSatisfy { abs($0 - $1) <= 1e-4 }, "input gradient")
    #expect(zip(plainGradients[plain.weight!]!.scalars, syncGradients[synchronised.weight!]!.scalars).allSatisfy { abs($0 - $1) <= 1e-4 })
    #expect(zip(plainGradients[plain.bias!]!.scalars, syncGradients[synchronised.bias!]!.scalars).allSatisfy { abs($0 - $1) <= 1e-4 })
    // Running statistics: the same mean; the variance's correction n/(n − 1) over the global n.
    #expect(zip(plain.runningMean!.value.scalars, synchronised.runningMean!.value.scalars).allSatisfy { abs($0 - $1) <= 1e-6 })
    let n = Float(x.count / 3), global = n * 4
    let unbiasedLocal = plain.runningVar!.value.scalars.map { ($0 - 0.9) / 0.1 }
    let expectedVariance = unbiasedLocal.map { 0.9 + 0.1 * $0 * (n - 1) / n * global / (global - 1) }
    #expect(zip(synchronised.runningVar!.value.scalars, expectedVariance).allSatisfy { abs($0 - $1) <= 1e-5 })
    // Evaluation mode does not synchronise.
    synchronised.eval()
    _ = synchronised(x)
    #expect(replicas.calls == 3 + 2, "backward summed the two statistics' gradients; evaluation summed nothing")
}

@Test func synchronisedBatchNormFollowedByPReLUMatchesTheFusedPath() {
    var g = RandomGenerator(seed: 42)
    let x = Tensor.randomNormal([4, 3, 2, 3], using: &g)
    let plain = BatchNorm2d(3), synchronised = BatchNorm2d(3), prelu = PReLU(3)
    synchronised.synchronisation = IdenticalReplicas(2)
    let expected = plain(x, followedBy: prelu), actual = synchronised(x, followedBy: prelu)
    #expect(zip(actual.scalars, expected.scalars).allSatisfy { abs($0 - $1) <= 1e-5 })
    let check = GradientCheck.run([x]) { t in synchronised(t[0], followedBy: prelu) }
    #expect(check.passed, "\(check)")
}

/// One row per process is a batch when synchronised: the count is the global one.
@Test func synchronisedBatchNormTakesOneRowPerProcess() {
    let bn = BatchNorm1d(3)
    bn.bias!.value = Tensor([0.1, 0.2, 0.3])
    bn.synchronisation = IdenticalReplicas(3)
    // Three identical rows: zero variance, so the output is β.
    let y = bn(Tensor(shape: [1, 3], scalars: [1, -2, 5]))
    #expect(zip(y.scalars, [0.1, 0.2, 0.3] as [Float]).allSatisfy { abs($0 - $1) <= 1e-6 })
    #expect(bn.numBatchesTracked!.value.item == 1)
}
