import Foundation
import Testing
import Tensor

/// Same seed ⇒ bit-identical results, including kernels that split work over threads.
@Suite struct DeterminismTests {
    /// A few SGD steps of a two-layer network on random data; returns every final weight and
    /// the loss curve. Sizes exceed the parallel grain so threaded paths are exercised.
    static func train(seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        let x = Tensor.randomNormal([128, 32], using: &rng)
        let labels = (0..<128).map { _ in Int(rng.next() % 10) }
        let w1 = Parameter(Tensor.randomNormal([32, 512], standardDeviation: 0.2, using: &rng))
        let w2 = Parameter(Tensor.randomNormal([512, 10], standardDeviation: 0.05, using: &rng))
        let bias = Parameter(Tensor.zeros([512]))
        var losses: [Float] = []
        for _ in 0..<3 {
            let hidden = (x.matmul(w1.value) + bias.value).relu()
            let logits = hidden.matmul(w2.value)
            let loss = -(logits.logSoftmax(alongAxis: 1) * Tensor.oneHot(labels, classes: 10)).sum() / 128
            let grads = loss.backward()
            withoutGradients {
                for p in [w1, w2, bias] { p.value = p.value - 0.1 * grads[p]! }
            }
            losses.append(loss.item)
        }
        return losses + w1.value.scalars + w2.value.scalars + bias.value.scalars + [Tensor.randomNormal([70_000], using: &rng).sum().item]
    }

    /// A computation started while another thread's region runs waits for it and gives the
    /// bits it gives on a quiet process. (OpenBLAS's threaded and single-threaded GEMM drivers
    /// cut a depth of 500 into different blocks: run single-threaded meanwhile, as CrossRes did
    /// before, the product below differed in most of its elements' last bits.)
    @Test(.enabled(if: Parallel.threadCount > 1, "needs more than one thread"))
    func resultsDoNotDependOnAnotherThreadsRegion() {
        var rng = RandomGenerator(seed: 9)
        let a = Tensor.randomNormal([512, 500], using: &rng), b = Tensor.randomNormal([500, 600], using: &rng)
        let x = Tensor.randomNormal([8, 20, 12, 12], using: &rng)
        let w = Parameter(Tensor.randomNormal([50, 20, 5, 5], using: &rng))
        func compute() -> [UInt32] {
            let y = Tensor.conv2d(x, weight: w.value)
            let dw = y.square().sum().backward()[w]!
            return (a.matmul(b).scalars + y.scalars + dw.scalars).map(\.bitPattern)
        }
        let quiet = compute()
        let holding = DispatchSemaphore(value: 0)
        let holder = Thread {
            parallelFor(2) { range in
                if range.lowerBound == 0 { holding.signal() }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        holder.start()
        holding.wait()
        #expect(compute() == quiet)
    }

    @Test func sameSeedIsBitIdentical() {
        let first = Self.train(seed: 2024), second = Self.train(seed: 2024)
        #expect(first.map(\.bitPattern) == second.map(\.bitPattern))
        #expect(first[2] < first[0], "the loss should fall: \(first.prefix(3))")
        #expect(Self.train(seed: 2025).prefix(3) != first.prefix(3))
    }
}
