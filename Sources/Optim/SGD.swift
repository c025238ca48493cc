import Tensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's `torch.optim.SGD` semantics:
///
///     g ← ∇ + λ·θ
///     b ← μ·b + (1 − τ)·g        (b ← g on the first step)
///     g ← g + μ·b  (Nesterov)   or   g ← b
///     θ ← θ − η·g
public final class SGD: Optimizer {
    public var groups: [ParameterGroup] {
        didSet {
            checkDistinct(groups, in: "SGD")
            state.follow(from: oldValue, to: groups)
        }
    }
    public var schedule: any LearningRateSchedule
    public private(set) var stepCount = 0
    public let momentum: Float
    public let dampening: Float
    public let nesterov: Bool
    private var state: SlotStore

    public init(groups: [ParameterGroup], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false,
                schedule: any LearningRateSchedule = ConstantSchedule()) {
        precondition(momentum >= 0 && momentum < 1, "SGD: momentum must be in [0, 1), got \(momentum)")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        checkDistinct(groups, in: "SGD")
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.schedule = schedule
        state = SlotStore(groups: groups, slotNames: momentum > 0 ? ["momentum_buffer"] : [])
    }

    public convenience init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                            weightDecay: Float = 0, schedule: any LearningRateSchedule = ConstantSchedule()) {
        self.init(groups: [ParameterGroup(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)],
                  momentum: momentum, nesterov: nesterov, schedule: schedule)
    }

    public func step(_ gradients: Gradients) {
        let factor = schedule.multiplier(atStep: stepCount)
        for (g, group) in groups.enumerated() {
            let lr = group.learningRate * factor, decay = group.weightDecay
            for (p, parameter) in group.parameters.enumerated() {
                guard parameter.isTrainable, let gradient = gradients[parameter] else { continue }
                var buffer: TensorStorage? = nil, first = false
                if !state.slotNames.isEmpty {
                    let slot = state.storages(group: g, parameter: p, count: parameter.value.count)
                    buffer = slot.slots[0]
                    first = slot.isNew
                }
                parameter.value = update(parameter.value, gradient, buffer, lr: lr, decay: decay, first: first)
            }
        }
        stepCount += 1
    }

    private func update(_ value: Tensor, _ gradient: Tensor, _ buffer: TensorStorage?, lr: Float, decay: Float, first: Bool) -> Tensor {
        let mu = momentum, tau = dampening, nesterov = nesterov
        return Tensor(shape: value.shape) { out in
            let theta = value.storage.base, grad = gradient.storage.base, dst = out.baseAddress!
            let b = buffer?.base
            for i in 0..<out.count {
                var step = grad[i] + decay * theta[i]
                if let b {
                    b[i] = first ? step : mu * b[i] + (1 - tau) * step
                    step = nesterov ? step + mu * b[i] : b[i]
                }
                dst[i] = theta[i] - lr * step
            }
        }
    }

    public func stateDict() -> [String: Tensor] { state.stateDict(groups: groups, stepCount: stepCount) }
    public func load(stateDict: [String: Tensor]) throws { stepCount = try state.load(stateDict, groups: groups) }
}
