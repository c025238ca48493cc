import Testing
import Foundation
import Tensor

/// Constructors, constant and range tensors, element access.
@Suite struct CreationTests {
    @Test func constructors() {
        #expect(Tensor(3).shape == [])
        #expect(Tensor(3).item == 3)
        #expect(Tensor([1, 2]).shape == [2])
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect(m.shape == [2, 3] && m.rank == 2 && m.count == 6 && m.strides == [3, 1])
        #expect(m[1, 2] == 6)
        #expect(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).scalars == [1, 2, 3, 4])
        let fast = Tensor(shape: [3]) { out in for i in out.indices { out[i] = Float(i * i) } }
        #expect(fast.scalars == [0, 1, 4])
        #expect(fast.withUnsafeBufferPointer { $0.reduce(0, +) } == 5)
        #expect(Tensor(shape: [0, 3], scalars: []).count == 0)
        // Storage is 64-byte aligned for vector loads.
        #expect(Int(bitPattern: Tensor.zeros([5]).storage.base) % 64 == 0)
    }

    @Test func constantsAndRanges() {
        #expect(Tensor.zeros([2, 2]).scalars == [0, 0, 0, 0])
        #expect(Tensor.ones([3]).scalars == [1, 1, 1])
        #expect(Tensor.full([2], 7).scalars == [7, 7])
        #expect(Tensor([1, 2]).zerosLike().scalars == [0, 0])
        #expect(Tensor.arange(0, 4).scalars == [0, 1, 2, 3])
        #expect(Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor.arange(3, 0, step: -1).scalars == [3, 2, 1])
        #expect(Tensor.arange(0, 0).count == 0)
    }

    @Test func randomDistributions() {
        var rng = RandomGenerator(seed: 111)
        let u = Tensor.randomUniform([10_000], low: -2, high: 3, using: &rng)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(Swift.abs(u.mean().item - 0.5) < 0.05)
        let n = Tensor.randomNormal([10_000], mean: 1, standardDeviation: 2, using: &rng)
        #expect(Swift.abs(n.mean().item - 1) < 0.06)
        #expect(Swift.abs(n.variance().item.squareRoot() - 2) < 0.06)
    }
}

/// The generator: reproducible streams, saved state, independent splits.
@Suite struct RandomGeneratorTests {
    @Test func sameSeedSameStream() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let sa = (0..<8).map { _ in a.next() }, sb = (0..<8).map { _ in b.next() }, sc = (0..<8).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test func stateResumesTheStream() throws {
        var rng = RandomGenerator(seed: 5)
        _ = rng.nextNormal()
        let saved = rng
        let restored = RandomGenerator(state: saved.state)
        let decoded = try JSONDecoder().decode(RandomGenerator.self, from: JSONEncoder().encode(saved))
        var r1 = restored, r2 = decoded
        let expected = (0..<4).map { _ in rng.nextUniform() }
        #expect((0..<4).map { _ in r1.nextUniform() } == expected)
        #expect((0..<4).map { _ in r2.nextUniform() } == expected)
    }

    @Test func splitsDiffer() {
        var rng = RandomGenerator(seed: 9)
        var child = rng.split()
        #expect(child != rng)
        #expect(child.next() != rng.next())
    }

    @Test func uniformRange() {
        var rng = RandomGenerator(seed: 10)
        for _ in 0..<1000 {
            let f = rng.nextUniform(), d = rng.nextUniformDouble()
            #expect(f >= 0 && f < 1 && d >= 0 && d < 1)
        }
    }
}
