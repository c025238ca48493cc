import Foundation
import Tensor

/// Adam (Kingma & Ba, ICLR 2015) and AdamW (Loshchilov & Hutter, ICLR 2019), with PyTorch's
/// `torch.optim.Adam`/`AdamW` semantics and bias correction:
///
///     g ← ∇ + λ·θ                       (Adam: L2 decay in the gradient)
///     θ ← θ·(1 − η·λ)                   (AdamW: decoupled decay instead)
///     m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
///     θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The seed's converged adversarial setting (after corenel/pytorch-adda) is
/// `Adam(learningRate: 1e-4, beta1: 0.5, beta2: 0.9, epsilon: 1e-8)` for both the critic and
/// the target encoder.
public final class Adam: Optimizer {
    public var groups: [ParameterGroup] {
        didSet {
            checkDistinct(groups, in: "Adam")
            state.follow(from: oldValue, to: groups)
            parameterSteps = relaid(parameterSteps, from: oldValue, to: groups, fresh: 0)
        }
    }
    public var schedule: any LearningRateSchedule
    public private(set) var stepCount = 0
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled weight decay (AdamW) instead of L2 in the gradient.
    public let decoupledWeightDecay: Bool
    private var state: SlotStore
    /// Per-parameter step counts (a parameter without a gradient in some step is not advanced).
    private var parameterSteps: [[Int]]

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                decoupledWeightDecay: Bool = false, schedule: any LearningRateSchedule = ConstantSchedule()) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1), got (\(beta1), \(beta2))")
        precondition(epsilon > 0, "Adam: epsilon must be positive, got \(epsilon)")
        checkDistinct(groups, in: "Adam")
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decoupledWeightDecay = decoupledWeightDecay
        self.schedule = schedule
        state = SlotStore(groups: groups, slotNames: ["exp_avg", "exp_avg_sq"])
        parameterSteps = groups.map { [Int](repeating: 0, count: $0.parameters.count) }
    }

    public convenience init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false,
                            schedule: any LearningRateSchedule = ConstantSchedule()) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, epsilon: epsilon, decoupledWeightDecay: decoupledWeightDecay, schedule: schedule)
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).
    public static func adamW(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01, schedule: any LearningRateSchedule = ConstantSchedule()) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true, schedule: schedule)
    }

    public func step(_ gradients: Gradients) {
        let factor = schedule.multiplier(atStep: stepCount)
        for (g, group) in groups.enumerated() {
            let lr = group.learningRate * factor
            for (p, parameter) in group.parameters.enumerated() {
                guard parameter.isTrainable, let gradient = gradients[parameter] else { continue }
                precondition(gradient.shape == parameter.shape, "Adam: gradient \(gradient.shape) for parameter \(parameter.shape)")
                let moments = state.storages(group: g, parameter: p, count: parameter.value.count).slots
                parameterSteps[g][p] += 1
                parameter.value = update(parameter.value, gradient, m: moments[0], v: moments[1], lr: lr,
                                         decay: group.weightDecay, t: parameterSteps[g][p])
            }
        }
        stepCount += 1
    }

    private func update(_ value: Tensor, _ gradient: Tensor, m: TensorStorage, v: TensorStorage, lr: Float, decay: Float, t: Int) -> Tensor {
        let b1 = beta1, b2 = beta2, eps = epsilon, decoupled = decoupledWeightDecay
        let correction1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
        let correction2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
        let stepSize = lr / correction1
        let rootCorrection2 = correction2.squareRoot()
        let shrink: Float = decoupled ? 1 - lr * decay : 1
        let l2: Float = decoupled ? 0 : decay
        return Tensor(shape: value.shape) { out in
            let theta = value.storage.base, grad = gradient.storage.base, dst = out.baseAddress!
            let pm = m.base, pv = v.base
            // 8 lanes at a time, over threads for large parameters; a short tail goes through
            // zero-padded lanes (which compute harmlessly and are dropped).
            parallelFor(out.count, grain: 1 << 15) { range in
                @inline(__always) func step(_ t: SIMD8<Float>, _ g: SIMD8<Float>, _ m: inout SIMD8<Float>, _ v: inout SIMD8<Float>) -> SIMD8<Float> {
                    let gi = g + l2 * t
                    m = b1 * m + (1 - b1) * gi
                    v = b2 * v + (1 - b2) * gi * gi
                    let denominator = v.squareRoot() / rootCorrection2 + eps
                    return t * shrink - stepSize * m / denominator
                }
                var i = range.lowerBound
                while i &+ 8 <= range.upperBound {
                    var mi = load8(pm + i), vi = load8(pv + i)
                    store8(step(load8(theta + i), load8(grad + i), &mi, &vi), dst + i)
                    store8(mi, pm + i)
                    store8(vi, pv + i)
                    i &+= 8
                }
                let tail = range.upperBound &- i
                guard tail > 0 else { return }
                var t = SIMD8<Float>(), g = SIMD8<Float>(), mi = SIMD8<Float>(), vi = SIMD8<Float>()
                for lane in 0..<tail {
                    t[lane] = theta[i &+ lane]; g[lane] = grad[i &+ lane]; mi[lane] = pm[i &+ lane]; vi[lane] = pv[i &+ lane]
                }
                let result = step(t, g, &mi, &vi)
                for lane in 0..<tail { dst[i &+ lane] = result[lane]; pm[i &+ lane] = mi[lane]; pv[i &+ lane] = vi[lane] }
            }
        }
    }

    /// The moments, the step count (exact at any size), and per group `<g>.steps`, each
    /// parameter's own count as a Float: exact below 2²⁴; beyond, a count off by one moves the
    /// bias correction `1 − β^t` by `β^t·(1 − β)`, far below Float rounding for β ≤ `1 − 10⁻⁶`.
    public func stateDict() -> [String: Tensor] {
        var dict = state.stateDict(groups: groups, stepCount: stepCount)
        for (g, steps) in parameterSteps.enumerated() {
            dict["\(g).steps"] = Tensor(steps.map(Float.init))
        }
        return dict
    }

    public func load(stateDict: [String: Tensor]) throws {
        var slots = stateDict
        var steps = parameterSteps
        for g in groups.indices {
            guard let saved = slots.removeValue(forKey: "\(g).steps"), saved.shape == [groups[g].parameters.count] else {
                throw OptimizerStateError(description: "optimizer state: missing or mis-shaped '\(g).steps' for group '\(groups[g].name)'")
            }
            let counts = saved.scalars.compactMap(wholeCount)
            guard counts.count == saved.count else {
                throw OptimizerStateError(description: "optimizer state: '\(g).steps' holds \(saved.scalars.first { wholeCount($0) == nil }!), not a step count")
            }
            steps[g] = counts
        }
        // A parameter that has taken steps has both moments, one that has not has neither: the
        // bias correction of a step count without its moments would scale the next update wrongly.
        for (g, group) in groups.enumerated() {
            for p in group.parameters.indices {
                let present = ["exp_avg", "exp_avg_sq"].filter { slots["\(g).\(p).\($0)"] != nil }.count
                guard present == (steps[g][p] > 0 ? 2 : 0) else {
                    throw OptimizerStateError(description: "optimizer state: parameter \(g).\(p) has taken \(steps[g][p]) steps but \(present) of its 2 moments are saved")
                }
            }
        }
        stepCount = try state.load(slots, groups: groups)
        parameterSteps = steps
    }
}
