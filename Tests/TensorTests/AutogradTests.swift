import Testing
import Tensor

/// The tape: accumulation, vector–Jacobian products, retention, constants and the custom hook.
@Suite struct AutogradTests {
    @Test func gradientsAccumulateOverRepeatedUse() {
        // f(x) = x·x + x + x³: df/dx = 2x + 1 + 3x²
        let x = Tensor([0.5, -2, 3]).trackingGradients()
        let y = (x * x + x + x * x * x).sum()
        let g = y.backward()[x]!
        expectClose(g, shape: [3], [2 * 0.5 + 1 + 3 * 0.25, -4 + 1 + 12, 6 + 1 + 27])
        expectGradients([random([2, 3], seed: 91)]) { t in t[0] * t[0] + t[0].exp() * t[0].sin() - t[0] }
    }

    @Test func parameterGradientAndIntermediates() {
        let w = Parameter(Tensor([[1, 2], [3, 4]]))
        let x = Tensor([[1, 1]])
        let h = x.matmul(w.value)  // [[4, 6]]
        let loss = h.square().sum()
        let grads = loss.backward()
        #expect(loss.item == 52)
        #expect(grads[h]!.scalars == [8, 12])  // an intermediate tensor's gradient
        #expect(grads[w]!.scalars == [8, 12, 8, 12])
        #expect(grads[x] == nil)  // a constant has no gradient
    }

    @Test func vectorJacobianProduct() {
        let x = Tensor([1, 2, 3]).trackingGradients()
        let y = x * x  // Jacobian diag(2x)
        let v = Tensor([1, 0.5, -1])
        #expect(y.backward(gradient: v)[x]!.scalars == [2, 2, -6])
    }

    /// The seed's pattern: gradients with respect to a discriminator's *input* are handed to the
    /// generator with `features.backward(gradient:)`; the generator's gradients must equal a
    /// single backward pass through both networks.
    @Test func discriminatorInputGradientsHandedToTheGenerator() {
        var rng = RandomGenerator(seed: 92)
        let generatorWeight = Parameter(Tensor.randomNormal([3, 4], using: &rng))
        let discriminatorWeight = Parameter(Tensor.randomNormal([4, 1], using: &rng))
        let z = Tensor.randomNormal([5, 3], using: &rng)
        func generator() -> Tensor { z.matmul(generatorWeight.value).tanh() }
        func discriminator(_ f: Tensor) -> Tensor { f.matmul(discriminatorWeight.value).sigmoid().log().mean() }

        let single = discriminator(generator()).backward()

        // Same graph: read the intermediate's gradient, push it back through the generator.
        let features = generator()
        let grads = discriminator(features).backward()
        let handed = features.backward(gradient: grads[features]!)
        expectClose(handed[generatorWeight]!, single[generatorWeight]!, tolerance: 1e-6)
        #expect(handed[discriminatorWeight] == nil)

        // Separate graphs: the discriminator sees a fresh leaf cut from the generator's output.
        let cut = features.detached().trackingGradients()
        let criticGrads = discriminator(cut).backward()
        let fromCut = features.backward(gradient: criticGrads[cut]!)
        expectClose(fromCut[generatorWeight]!, single[generatorWeight]!, tolerance: 1e-6)
        expectClose(criticGrads[discriminatorWeight]!, single[discriminatorWeight]!, tolerance: 1e-6)
    }

    @Test func retention() {
        let x = Tensor([1, 2]).trackingGradients()
        let h = x.exp()
        let loss = h.sum()
        let all = loss.backward()
        let leaves = loss.backward(retaining: .leaves)
        #expect(all[h] != nil)
        #expect(leaves[h] == nil)
        #expect(leaves[x]!.scalars == all[x]!.scalars)
    }

    /// With `.leaves` each operation's saved tensors are freed once its backward has run (the
    /// intermediate `h`, saved by `h * h`, is gone after the backward); `.all` keeps them so
    /// that the graph can be differentiated again.
    @Test func leavesRetentionReleasesSavedTensors() {
        for retention in [GradientRetention.all, .leaves] {
            let x = Tensor([1, 2, 3]).trackingGradients()
            weak var saved: TensorStorage?
            let loss: Tensor = {
                let h = x * 2
                saved = h.storage
                return (h * h).sum()
            }()
            #expect(saved != nil)
            #expect(loss.backward(retaining: retention)[x]!.scalars == [8, 16, 24])
            #expect((saved != nil) == (retention == .all))
            if retention == .all { #expect(loss.backward(retaining: .leaves)[x]!.scalars == [8, 16, 24]) }
        }
    }

    @Test func withoutGradientsRecordsNothing() {
        let w = Parameter(Tensor([2, 3]))
        let y = withoutGradients { (w.value * w.value).sum() }
        #expect(!y.requiresGradient)
        #expect(y.backward().count == 0)
        // withGradients switches recording back on inside.
        let z = withoutGradients { withGradients { (w.value * 2).sum() } }
        #expect(z.backward()[w]!.scalars == [2, 2])
        // Gradient functions themselves run without recording.
        #expect(!z.backward()[w]!.requiresGradient)
    }

    @Test func detachedCutsTheGraph() {
        let x = Tensor([1, 2, 3]).trackingGradients()
        // d/dx [x · stop(x)] = stop(x): the detached factor is a constant.
        let g = (x * x.detached()).sum().backward()[x]!
        #expect(g.scalars == [1, 2, 3])
        #expect(!x.detached().requiresGradient)
        #expect(x.detached().storage === x.storage)
        #expect((x.detached() * 2).sum().backward().count == 0)
    }

    @Test func customBackwardHook() {
        // Gradient reversal: identity forward, −λ·g backward.
        let lambda: Float = 0.5
        let x = Tensor([1, -2, 3]).trackingGradients()
        let reversed = Tensor.recordOperation("reverse", value: x.detached(), inputs: [x]) { g in [g * -lambda] }
        #expect(reversed.scalars == x.scalars)
        #expect(reversed.node?.name == "reverse")
        #expect((reversed * 2).sum().backward()[x]!.scalars == [-1, -1, -1])

        // A fused op written with raw kernels: softplus(x) = log(1 + eˣ), d/dx = sigmoid(x).
        func softplus(_ t: Tensor) -> Tensor {
            let value = Tensor(shape: t.shape) { out in
                t.withUnsafeBufferPointer { src in for i in src.indices { out[i] = Foundation.log1p(Foundation.exp(src[i])) } }
            }
            let input = t.detached()
            return Tensor.recordOperation("softplus", value: value, inputs: [t]) { g in [g * input.sigmoid()] }
        }
        expectGradients([random([2, 3], seed: 93, low: -3, high: 3)]) { softplus($0[0]) }

        // With a constant input or with recording off, nothing is recorded.
        #expect(!softplus(Tensor([1])).requiresGradient)
        #expect(!withoutGradients { softplus(x) }.requiresGradient)
        // Inputs that need no gradient may get nil.
        let mixed = Tensor.recordOperation("firstOnly", value: x.detached(), inputs: [x, Tensor([0, 0, 0])]) { g in [g, nil] }
        #expect(mixed.sum().backward()[x]!.scalars == [1, 1, 1])
    }

    @Test func gradientStoresAddUp() {
        let w = Parameter(Tensor([1, 2]))
        let first = (w.value * 3).sum().backward()
        let second = w.value.square().sum().backward()
        var total = first
        total += second
        #expect(total[w]!.scalars == [5, 7])
        #expect((first + second)[w]!.scalars == [5, 7])
        #expect(first.mapGradients { $0 * 2 }[w]!.scalars == [6, 6])
    }

    @Test func frozenAndReboundParameters() {
        let w = Parameter(Tensor([1, 2]))
        let before = w.value
        let grads = (w.value * w.value).sum().backward()
        w.value = w.value - 0.1 * grads[w]!  // an optimiser step (under withoutGradients in practice)
        #expect(w.value.requiresGradient && w.value.node?.isLeaf == true)
        #expect(grads[before]!.scalars == [2, 4])
        #expect(grads[w] == nil)  // the new value took no part in that loss
        w.isTrainable = false
        #expect(!w.value.requiresGradient)
        #expect((w.value * 2).sum().backward()[w] == nil)
        w.isTrainable = true
        #expect((w.value * 2).sum().backward()[w]!.scalars == [2, 2])
        let buffer = Buffer(Tensor([1]).trackingGradients())
        #expect(!buffer.value.requiresGradient)
    }

    @Test func deepGraphsDoNotOverflowTheStack() {
        // Both the topological sort and the release of the graph must be iterative.
        let x = Tensor([1]).trackingGradients()
        do {
            var y = x
            for _ in 0..<60_000 { y = y + 0 }
            #expect(y.backward(retaining: .leaves)[x]!.scalars == [1])
        }
        #expect(x.node?.isLeaf == true)
    }

    @Test func backwardOfAnUntrackedTensorIsEmpty() {
        #expect(Tensor([1, 2]).sum().backward().count == 0)
    }
}

import Foundation
