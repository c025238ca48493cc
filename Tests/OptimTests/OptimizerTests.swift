import Foundation
import Testing
import Tensor
@testable import Optim

/// Gradients of `Σ c ⊙ θ` are exactly `c`, so every update below is computable by hand.
private func linearGradients(_ parameter: Parameter, _ c: [Float]) -> Gradients {
    (parameter.value * Tensor(c)).sum().backward()
}

@Suite struct SGDTests {
    @Test func plainStepsMatchHandComputation() {
        let p = Parameter(Tensor([1, -2]))
        let sgd = SGD(parameters: [p], learningRate: 0.1)
        sgd.step(linearGradients(p, [1, 2]))
        #expect(p.value.scalars == [0.9, -2.2])
        sgd.step(linearGradients(p, [1, 2]))
        #expect(zip(p.value.scalars, [0.8, -2.4]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func momentumWeightDecayAndNesterov() {
        // θ=1, g=0.5, λ=0.1, μ=0.9, η=0.1. Step 1: g'=0.6, b=0.6, θ=1−0.06=0.94.
        // Step 2: g'=0.5+0.094=0.594, b=0.9·0.6+0.594=1.134, θ=0.94−0.1134=0.8266.
        let p = Parameter(Tensor([1]))
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        sgd.step(linearGradients(p, [0.5]))
        #expect(abs(p.value.item - 0.94) < 1e-6)
        sgd.step(linearGradients(p, [0.5]))
        #expect(abs(p.value.item - 0.8266) < 1e-6)

        // Nesterov, no decay: step 1 b=g=1, update g+μb=1.9 → θ=1−0.19=0.81; step 2 b=1.9, g+μb=2.71 → 0.81−0.271.
        let q = Parameter(Tensor([1]))
        let nesterov = SGD(parameters: [q], learningRate: 0.1, momentum: 0.9, nesterov: true)
        nesterov.step(linearGradients(q, [1]))
        #expect(abs(q.value.item - 0.81) < 1e-6)
        nesterov.step(linearGradients(q, [1]))
        #expect(abs(q.value.item - 0.539) < 1e-6)
    }

    @Test func parameterWithoutGradientIsUntouched() {
        let used = Parameter(Tensor([1])), unused = Parameter(Tensor([5]))
        let sgd = SGD(parameters: [used, unused], learningRate: 1)
        sgd.step(linearGradients(used, [1]))
        #expect(used.value.item == 0)
        #expect(unused.value.item == 5)
    }

    @Test func frozenParameterIsNotUpdated() {
        let p = Parameter(Tensor([1, 1]))
        let g = linearGradients(p, [1, 1])
        p.isTrainable = false
        SGD(parameters: [p], learningRate: 1).step(g)
        #expect(p.value.scalars == [1, 1])
    }
}

@Suite struct AdamTests {
    /// Adam with bias correction, computed in Double for three steps.
    private func reference(theta: Double, gradients: [Double], lr: Double, b1: Double, b2: Double, eps: Double,
                           decay: Double, decoupled: Bool) -> [Double] {
        var t = theta, m = 0.0, v = 0.0
        var out: [Double] = []
        for (i, g0) in gradients.enumerated() {
            let step = Double(i + 1)
            if decoupled { t *= 1 - lr * decay }
            let g = decoupled ? g0 : g0 + decay * t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            let mHat = m / (1 - pow(b1, step)), vHat = v / (1 - pow(b2, step))
            t -= lr * mHat / (vHat.squareRoot() + eps)
            out.append(t)
        }
        return out
    }

    @Test(arguments: [false, true])
    func threeStepsMatchReference(decoupled: Bool) {
        let grads: [Float] = [0.3, -0.2, 0.5]
        let p = Parameter(Tensor([0.7]))
        let adam = Adam(parameters: [p], learningRate: 0.01, beta1: 0.5, beta2: 0.9, epsilon: 1e-8,
                        weightDecay: 0.1, decoupledWeightDecay: decoupled)
        let expected = reference(theta: 0.7, gradients: grads.map(Double.init), lr: 0.01, b1: 0.5, b2: 0.9, eps: 1e-8,
                                 decay: 0.1, decoupled: decoupled)
        for (g, e) in zip(grads, expected) {
            adam.step(linearGradients(p, [g]))
            #expect(abs(Double(p.value.item) - e) < 1e-6)
        }
    }

    /// A parameter large enough for several threads' chunks, 8-lane blocks and a short tail:
    /// every element follows the reference.
    @Test func largeParameterMatchesReferencePerElement() {
        var rng = RandomGenerator(seed: 9)
        let count = 70_003
        let theta = Tensor.randomNormal([count], using: &rng), first = Tensor.randomNormal([count], using: &rng)
        let second = Tensor.randomNormal([count], using: &rng)
        let p = Parameter(theta)
        let adam = Adam(parameters: [p], learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1)
        adam.step(linearGradients(p, first.scalars))
        adam.step(linearGradients(p, second.scalars))
        let result = p.value.scalars, t0 = theta.scalars, g1 = first.scalars, g2 = second.scalars
        var worst = 0.0
        for i in Swift.stride(from: 0, to: count, by: 1) {
            let expected = reference(theta: Double(t0[i]), gradients: [Double(g1[i]), Double(g2[i])], lr: 0.01, b1: 0.8, b2: 0.95,
                                     eps: 1e-8, decay: 0.1, decoupled: false)
            worst = Swift.max(worst, abs(Double(result[i]) - expected[1]))
        }
        #expect(worst < 1e-6, "largest difference \(worst)")
    }

    @Test func firstStepMovesByLearningRate() {
        // Bias correction makes the first step exactly lr·sign(g) (up to ε).
        let p = Parameter(Tensor([0, 0]))
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        adam.step(linearGradients(p, [4, -0.01]))
        #expect(abs(p.value[0] + 1e-3) < 1e-7 && abs(p.value[1] - 1e-3) < 1e-7)
    }

    @Test func parameterGroupsHaveOwnRates() {
        let a = Parameter(Tensor([0])), b = Parameter(Tensor([0]))
        let adam = Adam(groups: [ParameterGroup(name: "critic", parameters: [a], learningRate: 1e-2),
                                 ParameterGroup(name: "encoder", parameters: [b], learningRate: 1e-4)])
        adam.step((a.value + b.value).sum().backward())
        #expect(abs(a.value.item + 1e-2) < 1e-7)
        #expect(abs(b.value.item + 1e-4) < 1e-9)
    }

    @Test func stateRoundTripResumesExactly() throws {
        let grads: [[Float]] = [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6], [0.7, 0.8]]
        let p = Parameter(Tensor([1, 2]))
        let full = Adam(parameters: [p], learningRate: 0.1)
        for g in grads { full.step(linearGradients(p, g)) }

        let q = Parameter(Tensor([1, 2]))
        let first = Adam(parameters: [q], learningRate: 0.1)
        for g in grads[..<2] { first.step(linearGradients(q, g)) }
        let saved = first.stateDict()
        let resumed = Adam(parameters: [q], learningRate: 0.1)
        try resumed.load(stateDict: saved)
        #expect(resumed.stepCount == 2)
        for g in grads[2...] { resumed.step(linearGradients(q, g)) }
        #expect(q.value.scalars == p.value.scalars)
    }

    @Test func loadRejectsMismatchedState() {
        let p = Parameter(Tensor([1, 2]))
        let adam = Adam(parameters: [p])
        adam.step(linearGradients(p, [1, 1]))
        var state = adam.stateDict()
        state["0.0.exp_avg"] = Tensor([1, 2, 3])
        #expect(throws: OptimizerStateError.self) { try Adam(parameters: [p]).load(stateDict: state) }
        // Step counts that are not whole numbers a count can hold are errors, not traps.
        for bad: Float in [.nan, .infinity, -1, 2.5, 1e30] {
            var steps = adam.stateDict()
            steps["step"] = Tensor([bad])
            #expect(throws: OptimizerStateError.self, "step \(bad)") { try Adam(parameters: [p]).load(stateDict: steps) }
            var parameterSteps = adam.stateDict()
            parameterSteps["0.steps"] = Tensor([bad])
            #expect(throws: OptimizerStateError.self, "0.steps \(bad)") { try Adam(parameters: [p]).load(stateDict: parameterSteps) }
        }
        var extra = adam.stateDict()
        extra["9.9.exp_avg"] = Tensor([1])
        do {
            try Adam(parameters: [p]).load(stateDict: extra)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("9.9.exp_avg"))
        }
    }
}

/// Groups changed after construction (PyTorch's `add_param_group`, a reordering): each
/// parameter's state follows it, new parameters start without; they crashed or read another
/// parameter's moments before.
@Suite struct ChangedGroupsTests {
    func gradients(_ parameters: [Parameter]) -> Gradients {
        parameters.map { ($0.value * Tensor(Array(repeating: 1, count: $0.value.count))).sum() }.reduce(Tensor(0), +).backward()
    }

    @Test(arguments: ["adam", "sgd"])
    func stateFollowsItsParameter(_ kind: String) {
        let a = Parameter(Tensor([1, 2])), b = Parameter(Tensor([3, 4, 5]))
        let optimizer: any Optimizer = kind == "adam" ? Adam(parameters: [a, b]) : SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9)
        optimizer.step(gradients([a, b]))
        let before = optimizer.stateDict()
        optimizer.groups[0].parameters.swapAt(0, 1)
        let after = optimizer.stateDict()
        let slots = before.keys.filter { $0.hasPrefix("0.0.") }.map { String($0.dropFirst(4)) }
        #expect(!slots.isEmpty)
        for slot in slots {
            #expect(after["0.0.\(slot)"]?.scalars == before["0.1.\(slot)"]?.scalars && after["0.1.\(slot)"]?.scalars == before["0.0.\(slot)"]?.scalars, "\(slot)")
        }
        let c = Parameter(Tensor([6]))
        optimizer.groups.append(ParameterGroup(name: "new", parameters: [c], learningRate: 0.01))
        #expect(!optimizer.stateDict().keys.contains { $0.hasPrefix("1.0.") })
        optimizer.step(gradients([a, b, c]))
        #expect(slots.allSatisfy { optimizer.stateDict()["1.0.\($0)"]?.shape == [1] })
    }

    /// Adam's saved step counts and moments must agree: a count without its moments would
    /// restart them at zero under the old bias correction.
    @Test func adamStateWithStepsButNoMomentsIsRefused() {
        let p = Parameter(Tensor([1, 2]))
        let adam = Adam(parameters: [p])
        adam.step(gradients([p]))
        var state = adam.stateDict()
        state["0.0.exp_avg"] = nil
        #expect(throws: OptimizerStateError.self) { try Adam(parameters: [p]).load(stateDict: state) }
        state["0.0.exp_avg_sq"] = nil
        #expect(throws: OptimizerStateError.self) { try Adam(parameters: [p]).load(stateDict: state) }
    }
}

/// Review helper-26: what PyTorch refuses or keeps exact, so must we.
@Suite struct OptimizerContractTests {
    /// Builds an optimiser holding one parameter twice, the way `kind` names.
    static func holdTwice(_ kind: String) {
        let p = Parameter(Tensor([1])), q = Parameter(Tensor([2, 3]))
        let twice = [ParameterGroup(parameters: [p, q], learningRate: 0.1), ParameterGroup(name: "b", parameters: [q], learningRate: 0.01)]
        switch kind {
        case "adam": _ = Adam(groups: twice)
        case "sgd": _ = SGD(groups: twice)
        case "append":
            let adam = Adam(parameters: [p, q])
            adam.groups.append(ParameterGroup(name: "b", parameters: [q], learningRate: 0.01))
        default: _ = SGD(parameters: [p, q, p], learningRate: 0.1)
        }
    }

    /// A parameter in two groups (or twice in one) was accepted: the second place never updated
    /// and a later `groups` change kept its empty state. PyTorch raises for it.
    @Test(arguments: ["adam", "sgd", "append", "same group"])
    func aParameterMayBeInOneGroupOnce(_ kind: String) async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [kind] in
            OptimizerContractTests.holdTwice(kind)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("appears twice"), "\(kind): \(message)")
    }

    /// Step counts past 2²⁴ were saved as a rounded Float: the resumed schedule ran a step behind.
    @Test func stepCountsResumeExactlyPastFloatPrecision() throws {
        let p = Parameter(Tensor([1]))
        let schedule = MultiStepSchedule(milestones: [16_777_217], gamma: 0.1)
        let sgd = SGD(parameters: [p], learningRate: 1, schedule: schedule)
        try sgd.load(stateDict: ["step": Tensor(Float(1 << 24))])
        sgd.step(Gradients())
        #expect(sgd.stepCount == 16_777_217)
        #expect(sgd.stateDict()["step"]?.shape == [2])
        let resumed = SGD(parameters: [p], learningRate: 1, schedule: schedule)
        try resumed.load(stateDict: sgd.stateDict())
        #expect(resumed.stepCount == 16_777_217)
        #expect(resumed.currentLearningRate() == sgd.currentLearningRate())
        #expect(abs(resumed.currentLearningRate() - 0.1) < 1e-7)
        // Small counts keep the scalar of every earlier checkpoint.
        let fresh = SGD(parameters: [p], learningRate: 1)
        fresh.step(Gradients())
        #expect(fresh.stateDict()["step"]?.count == 1)
        for bad in [Tensor([1, Float(1 << 24)]), Tensor([1, 2, 3]), Tensor([-1, 0])] {
            #expect(throws: OptimizerStateError.self, "\(bad.scalars)") { try SGD(parameters: [p], learningRate: 1).load(stateDict: ["step": bad]) }
        }
    }

    @Test func warmupStartOutsideZeroToOneIsRefused() async {
        await #expect(processExitsWith: .failure) { _ = WarmupSchedule(warmupSteps: 4, start: 1.5) }
        await #expect(processExitsWith: .failure) { _ = WarmupSchedule(warmupSteps: 4, start: -0.1) }
        await #expect(processExitsWith: .failure) { _ = CosineSchedule(totalSteps: 4, minimum: -0.5) }
    }
}

@Suite struct ScheduleTests {
    @Test func stepAndMultiStepBreakPoints() {
        let s = StepSchedule(stepSize: 10, gamma: 0.5)
        #expect(s.multiplier(atStep: 9) == 1 && s.multiplier(atStep: 10) == 0.5 && s.multiplier(atStep: 20) == 0.25)
        let m = MultiStepSchedule(milestones: [3, 7], gamma: 0.1)
        #expect(m.multiplier(atStep: 2) == 1)
        #expect(abs(m.multiplier(atStep: 3) - 0.1) < 1e-7 && abs(m.multiplier(atStep: 7) - 0.01) < 1e-8)
    }

    @Test func cosinePolynomialWarmup() {
        let c = CosineSchedule(totalSteps: 100, minimum: 0.1)
        #expect(c.multiplier(atStep: 0) == 1)
        #expect(abs(c.multiplier(atStep: 50) - 0.55) < 1e-6)
        #expect(abs(c.multiplier(atStep: 100) - 0.1) < 1e-6 && abs(c.multiplier(atStep: 500) - 0.1) < 1e-6)
        let p = PolynomialSchedule(totalSteps: 10, power: 2)
        #expect(abs(p.multiplier(atStep: 5) - 0.25) < 1e-7 && p.multiplier(atStep: 10) == 0 && p.multiplier(atStep: 12) == 0)
        // methods.md §6 (DANN): μ0 = 0.01, p = 0.1, 0.5, 1 → 0.00594604, 0.00260847, 0.00165560.
        let annealing = AnnealingSchedule(totalSteps: 10)
        let rates = [1, 5, 10, 20].map { 0.01 * annealing.multiplier(atStep: $0) }
        for (rate, expected) in zip(rates, [Float(0.00594604), 0.00260847, 0.00165560, 0.00165560]) {
            #expect(abs(rate - expected) <= 1e-5 * expected, "\(rate) vs \(expected)")
        }
        #expect(annealing.multiplier(atStep: 0) == 1)
        // A one-step run (totalSteps: steps − 1 = 0) is at the end of its progress, as the loop's p = 1.
        #expect(AnnealingSchedule(totalSteps: 0).multiplier(atStep: 0) == annealing.multiplier(atStep: 10))
        let w = WarmupSchedule(warmupSteps: 4, start: 0, then: StepSchedule(stepSize: 2, gamma: 0.5))
        #expect(w.multiplier(atStep: 0) == 0 && w.multiplier(atStep: 2) == 0.5)
        #expect(w.multiplier(atStep: 4) == 1 && w.multiplier(atStep: 6) == 0.5)
        let product = ProductSchedule([StepSchedule(stepSize: 1, gamma: 0.5), ConstantSchedule()])
        #expect(product.multiplier(atStep: 3) == 0.125)
    }

    @Test func optimizerUsesSchedule() {
        let p = Parameter(Tensor([0]))
        let sgd = SGD(parameters: [p], learningRate: 1, schedule: StepSchedule(stepSize: 1, gamma: 0.5))
        sgd.step(linearGradients(p, [1]))
        sgd.step(linearGradients(p, [1]))
        #expect(p.value.item == -1.5)
        #expect(sgd.currentLearningRate() == 0.25)
    }
}

@Suite struct ClippingTests {
    @Test func clipsToMaxNorm() {
        let a = Parameter(Tensor([0, 0])), b = Parameter(Tensor([0]))
        let g = ((a.value * Tensor([3, 0])).sum() + (b.value * Tensor([4])).sum()).backward()
        let (clipped, norm) = clipByGlobalNorm(g, parameters: [a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(abs(clipped[a]![0] - 0.6) < 1e-5 && abs(clipped[b]![0] - 0.8) < 1e-5)
        let (unchanged, _) = clipByGlobalNorm(g, parameters: [a, b], maxNorm: 10)
        #expect(unchanged[a]!.scalars == [3, 0])
    }

    /// A NaN anywhere makes the norm NaN and every gradient NaN (PyTorch's behaviour): it never
    /// passes unclipped next to finite gradients that look healthy.
    @Test func nanNormPoisonsEveryGradient() {
        let a = Parameter(Tensor([0, 0])), b = Parameter(Tensor([0]))
        let g = ((a.value * Tensor([Float.nan, 1])).sum() + (b.value * Tensor([4])).sum()).backward()
        let (clipped, norm) = clipByGlobalNorm(g, parameters: [a, b], maxNorm: 1)
        #expect(norm.isNaN)
        #expect(clipped[a]!.scalars.allSatisfy { $0.isNaN } && clipped[b]!.scalars.allSatisfy { $0.isNaN })
    }
}
