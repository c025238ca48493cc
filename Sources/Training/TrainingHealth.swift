import Foundation
import Tensor
import Layers
import Optim

// Numerical health of a run: non-finite values are caught at the step they appear and named
// (loss term, parameter gradient, parameter, BatchNorm running statistic, optimiser state), and
// an ADDA critic whose accuracy stays pinned at 0 or 1 is reported.

/// Whether every element of `t` is finite. One pass with `SIMD8` accumulators of `x − x`,
/// which is 0 for finite `x` and NaN for ±∞ and NaN, so a single NaN poisons the sum.
func isAllFinite(_ t: Tensor) -> Bool {
    t.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return true }
        let n = buffer.count
        var accumulator = SIMD8<Float>()
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i &+ 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            accumulator += v - v
            i &+= 8
        }
        var tail: Float = 0
        while i < n { tail += base[i] - base[i]; i &+= 1 }
        return (accumulator.sum() + tail) == 0
    }
}

/// Stops a step whose loss terms are not finite, naming the first bad term, with
/// ``TrainingError/nonFinite(step:what:lastCheckpoint:)`` (the loop fills in the step). Call it
/// before the backward pass whose gradients an optimiser will apply.
///
/// In a data-parallel step (``ProcessAgreement/current`` set) it is a collective: every process
/// calls it at the same point and every process throws — the same error, naming the lowest
/// rank whose terms are bad — as soon as one process's terms are, so no process goes on to a
/// backward pass or an update while another stops.
public func ensureFinite(_ terms: [(name: String, value: Float)]) throws {
    try stopUnlessEveryProcessIsFinite(terms.first(where: { !$0.value.isFinite }).map { "loss term '\($0.name)' (\($0.value))" })
}

/// Stops a step before `optimizer` applies `gradients` when the gradient of one of its
/// parameters is not finite, naming it `<module>.<parameter>` from `modules` (the task's
/// checkpointed modules, which name everything the step trains; looked up only on failure).
/// A collective in a data-parallel step, like ``ensureFinite(_:)``: it checks this process's
/// own gradients (before they are averaged) and stops every process if any process's are bad.
public func ensureFinite(_ gradients: Gradients, updatedBy optimizer: any Optimizer,
                         in modules: @autoclosure () -> [(name: String, module: any Module)]) throws {
    var bad: String? = nil
    if let parameter = optimizer.allParameters.first(where: { gradients[$0].map { !isAllFinite($0) } ?? false }) {
        let named = modules().lazy.flatMap { module in
            module.module.namedParameters().lazy.map { (name: module.name + "." + $0.name, parameter: $0.parameter) }
        }
        let name = named.first { $0.parameter === parameter }?.name ?? "an unnamed parameter of shape \(parameter.value.shape)"
        bad = "gradient of '\(name)'"
    }
    try stopUnlessEveryProcessIsFinite(bad)
}

/// Throws ``TrainingError/nonFinite(step:what:lastCheckpoint:)`` for this process's failure
/// `local` — or, in a data-parallel step, on every process for the first process's failure.
func stopUnlessEveryProcessIsFinite(_ local: String?) throws {
    let failure = try ProcessAgreement.current.map { try $0.firstFailure(local) } ?? local
    if let failure { throw TrainingError.nonFinite(step: -1, what: failure, lastCheckpoint: nil) }
}

/// The parameters and buffers of a task's checkpointed modules, listed once per run (module
/// reflection is not free) and checked after every step: the first non-finite one is described
/// with the layer it belongs to — e.g. a BatchNorm running statistic that a huge activation
/// overflowed, or a weight that the optimiser's update overflowed.
struct StateWatch {
    private let buffers: [(name: String, buffer: Buffer)]
    private let parameters: [(name: String, parameter: Parameter)]

    init(_ modules: [(name: String, module: any Module)]) {
        buffers = modules.flatMap { m in m.module.namedBuffers().map { (m.name + "." + $0.name, $0.buffer) } }
        parameters = modules.flatMap { m in m.module.namedParameters().map { (m.name + "." + $0.name, $0.parameter) } }
    }

    func firstNonFinite() -> String? {
        if let (name, _) = buffers.first(where: { !isAllFinite($0.buffer.value) }) {
            let layer = name.split(separator: ".").dropLast().joined(separator: ".")
            let isStatistic = name.hasSuffix(".running_mean") || name.hasSuffix(".running_var")
            return (isStatistic ? "BatchNorm running statistic '\(name)' of layer '\(layer)'" : "buffer '\(name)' of layer '\(layer)'")
                + " after the step"
        }
        if let (name, _) = parameters.first(where: { !isAllFinite($0.parameter.value) }) {
            return "parameter '\(name)' after the optimiser step"
        }
        return nil
    }
}

/// Watches an ADDA critic's batch accuracy for collapse: accuracy pinned at or below ``low`` (the
/// encoder fools it completely) or at or above ``high`` (it separates the domains perfectly, so
/// the encoder's adversarial gradient saturates) for ``window`` consecutive steps. Either way the
/// adversarial term has stopped aligning the domains (Tzeng et al., *Adversarial Discriminative
/// Domain Adaptation*, CVPR 2017, §4: the critic and encoder must stay in balance).
///
/// The defaults — 0.02 / 0.98 over 200 steps — sit outside what a balanced game shows: with a
/// batch of 64 + 64 embeddings, 0.02 is 2 errors or fewer. A collapse is reported once when the
/// run of pinned steps reaches ``window``, and again only after the accuracy has left the band.
/// ``TrainingLoop`` keeps the count in its checkpoints, so a run resumed from the loop's own
/// checkpoint with the same ``window`` reports a collapse at the step the uninterrupted run would
/// have (``restore(checkpointValue:)``).
public struct CriticCollapseDetector: Sendable {
    public var low: Float
    public var high: Float
    public var window: Int
    /// Whether a collapse stops training (with ``TrainingError/criticCollapse(step:detail:lastCheckpoint:)``)
    /// instead of only being reported.
    public var stops: Bool
    /// Consecutive pinned steps so far, and on which side.
    private(set) var pinnedSteps = 0
    private var pinnedHigh = false

    public init(low: Float = 0.02, high: Float = 0.98, window: Int = 200, stops: Bool = false) {
        precondition(window > 0, "CriticCollapseDetector: window must be positive, got \(window)")
        precondition(0 <= low && low < high && high <= 1, "CriticCollapseDetector: need 0 ≤ low < high ≤ 1, got \(low), \(high)")
        self.low = low
        self.high = high
        self.window = window
        self.stops = stops
    }

    /// Feeds one step's accuracy; returns `true` at the step the pinned run reaches ``window``.
    public mutating func observe(_ accuracy: Float) -> Bool {
        let isHigh = accuracy >= high, isLow = accuracy <= low
        guard accuracy.isFinite, isHigh || isLow else { pinnedSteps = 0; return false }
        if pinnedSteps > 0 && isHigh != pinnedHigh { pinnedSteps = 0 }
        pinnedHigh = isHigh
        pinnedSteps += 1
        return pinnedSteps == window
    }

    /// Checkpoint metadata key of the count (``checkpointValue``).
    static let checkpointKey = "crossres.critic_pinned_steps"

    /// The count as a checkpoint stores it: `"0"`, or `"<steps> high|low <window>"`.
    var checkpointValue: String { pinnedSteps == 0 ? "0" : "\(pinnedSteps) \(pinnedHigh ? "high" : "low") \(window)" }

    /// Continues from a ``checkpointValue``. The count restarts at 0 if the value is unreadable or
    /// was counted for another ``window``; a count that had already reached the window (reported
    /// as a warning) makes the next pinned step report again if this detector ``stops``, so that
    /// a run resumed with stopping switched on stops there.
    mutating func restore(checkpointValue value: String) {
        let parts = value.split(separator: " ")
        guard parts.count == 3, let steps = Int(parts[0]), steps > 0, parts[1] == "high" || parts[1] == "low",
              Int(parts[2]) == window else {
            pinnedSteps = 0
            return
        }
        pinnedSteps = stops ? Swift.min(steps, window &- 1) : steps
        pinnedHigh = parts[1] == "high"
    }

    /// The condition in words, for the warning and the error.
    func describe(_ accuracy: Float) -> String {
        let side = accuracy >= high ? "≥ \(high) (the critic separates the domains perfectly)"
                                    : "≤ \(low) (the encoder fools the critic completely)"
        return "ADDA critic collapse: critic_accuracy \(accuracy) has stayed \(side) for \(window) consecutive steps; the adversarial term no longer aligns the domains (try a lower critic learning rate, an encoder gate, or a smaller adversarial weight)"
    }
}
