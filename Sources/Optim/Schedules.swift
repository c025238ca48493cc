import Foundation
import Tensor

/// A learning-rate multiplier as a function of the optimiser step (0-based).
public protocol LearningRateSchedule: Sendable {
    func multiplier(atStep step: Int) -> Float
}

/// Always 1.
public struct ConstantSchedule: LearningRateSchedule {
    public init() {}
    public func multiplier(atStep step: Int) -> Float { 1 }
}

/// `γ^⌊step / stepSize⌋` (PyTorch `StepLR`).
public struct StepSchedule: LearningRateSchedule {
    public let stepSize: Int
    public let gamma: Float
    public init(stepSize: Int, gamma: Float = 0.1) {
        precondition(stepSize > 0, "StepSchedule: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
    }
    public func multiplier(atStep step: Int) -> Float { Foundation.pow(gamma, Float(step / stepSize)) }
}

/// `γ^(number of milestones ≤ step)` (PyTorch `MultiStepLR`; insightface's decay steps).
public struct MultiStepSchedule: LearningRateSchedule {
    public let milestones: [Int]
    public let gamma: Float
    public init(milestones: [Int], gamma: Float = 0.1) {
        precondition(milestones == milestones.sorted(), "MultiStepSchedule: milestones must be increasing, got \(milestones)")
        self.milestones = milestones
        self.gamma = gamma
    }
    public func multiplier(atStep step: Int) -> Float { Foundation.pow(gamma, Float(milestones.filter { $0 <= step }.count)) }
}

/// Cosine annealing from 1 to `minimum` over `totalSteps`, then `minimum`:
/// `min + (1 − min)·(1 + cos(π·step/T))/2`.
public struct CosineSchedule: LearningRateSchedule {
    public let totalSteps: Int
    public let minimum: Float
    public init(totalSteps: Int, minimum: Float = 0) {
        precondition(totalSteps > 0, "CosineSchedule: totalSteps must be positive, got \(totalSteps)")
        precondition(minimum >= 0 && minimum.isFinite, "CosineSchedule: minimum must be a finite multiplier ≥ 0, got \(minimum)")
        self.totalSteps = totalSteps
        self.minimum = minimum
    }
    public func multiplier(atStep step: Int) -> Float {
        let t = Float(Swift.min(step, totalSteps)) / Float(totalSteps)
        return minimum + (1 - minimum) * (1 + Foundation.cos(Float.pi * t)) / 2
    }
}

/// `(1 − step/T)^power` down to 0 at `totalSteps` (insightface's polynomial decay).
public struct PolynomialSchedule: LearningRateSchedule {
    public let totalSteps: Int
    public let power: Float
    public init(totalSteps: Int, power: Float = 2) {
        precondition(totalSteps > 0, "PolynomialSchedule: totalSteps must be positive, got \(totalSteps)")
        precondition(power > 0 && power.isFinite, "PolynomialSchedule: power must be positive, got \(power)")
        self.totalSteps = totalSteps
        self.power = power
    }
    public func multiplier(atStep step: Int) -> Float {
        Foundation.pow(Swift.max(0, 1 - Float(step) / Float(totalSteps)), power)
    }
}

/// DANN's annealing (Ganin & Lempitsky, "Unsupervised Domain Adaptation by Backpropagation",
/// ICML 2015): `1/(1 + α·p)^β` with `p = step/T` the training progress, clamped at 1;
/// with base rate μ0 = 0.01, α = 10, β = 0.75 the paper's `μ_p = μ0/(1 + 10p)^0.75`.
/// (`TrainingLoop`'s progress is `step/(steps − 1)`, and 1 for a one-step run: `totalSteps:
/// steps − 1` follows it, `totalSteps: 0` meaning `p = 1`.)
public struct AnnealingSchedule: LearningRateSchedule {
    public let totalSteps: Int
    public let alpha: Float, beta: Float
    public init(totalSteps: Int, alpha: Float = 10, beta: Float = 0.75) {
        precondition(totalSteps >= 0, "AnnealingSchedule: totalSteps must not be negative, got \(totalSteps)")
        precondition(alpha >= 0 && beta >= 0, "AnnealingSchedule: α and β must be non-negative, got \(alpha), \(beta)")
        self.totalSteps = totalSteps
        self.alpha = alpha
        self.beta = beta
    }
    public func multiplier(atStep step: Int) -> Float {
        let p = totalSteps > 0 ? Float(Swift.min(Swift.max(step, 0), totalSteps)) / Float(totalSteps) : 1
        return 1 / Foundation.pow(1 + alpha * p, beta)
    }
}

/// Linear warm-up from `start` to 1 over `warmupSteps`, then `after` evaluated from 0.
///
/// With the default `start = 0` the first step runs at learning rate 0 (insightface's warm-up,
/// `lr·step/warmup`); Adam still counts it in its bias correction. PyTorch's `LinearLR` refuses a
/// start of 0: pass e.g. `1 / warmupSteps` for its behaviour.
public struct WarmupSchedule: LearningRateSchedule {
    public let warmupSteps: Int
    public let start: Float
    public let after: any LearningRateSchedule
    public init(warmupSteps: Int, start: Float = 0, then after: any LearningRateSchedule = ConstantSchedule()) {
        precondition(warmupSteps >= 0, "WarmupSchedule: negative warmupSteps \(warmupSteps)")
        precondition(start >= 0 && start <= 1, "WarmupSchedule: start must be in [0, 1], got \(start)")
        self.warmupSteps = warmupSteps
        self.start = start
        self.after = after
    }
    public func multiplier(atStep step: Int) -> Float {
        if step < warmupSteps { return start + (1 - start) * Float(step) / Float(warmupSteps) }
        return after.multiplier(atStep: step - warmupSteps)
    }
}

/// The product of several schedules' multipliers.
public struct ProductSchedule: LearningRateSchedule {
    public let factors: [any LearningRateSchedule]
    public init(_ factors: [any LearningRateSchedule]) { self.factors = factors }
    public func multiplier(atStep step: Int) -> Float { factors.reduce(1) { $0 * $1.multiplier(atStep: step) } }
}
