import Foundation
import Tensor

/// An optimiser: updates the values of its parameters from a ``Gradients`` store.
///
/// Parameters come in groups. The groups may change after construction (a learning rate, a
/// group added as PyTorch's `add_param_group`, parameters reordered): each parameter's state
/// follows it, and parameters new to the optimiser start without state. A parameter without a
/// gradient in the store (frozen, or not used by the loss) is left unchanged, and so is its state.
/// A parameter is in one group, once (a precondition; PyTorch raises for it too).
/// The learning rate of a step is `group.learningRate × schedule(step)`.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Multiplier of every group's learning rate, as a function of the step count.
    var schedule: any LearningRateSchedule { get set }
    /// Number of steps taken (the schedule is evaluated at this value before incrementing).
    var stepCount: Int { get }
    /// Applies one update.
    func step(_ gradients: Gradients)
    /// Everything needed to resume exactly: moments per parameter and the step count.
    func stateDict() -> [String: Tensor]
    /// Restores ``stateDict()``; throws if it does not fit these parameters.
    func load(stateDict: [String: Tensor]) throws
}

extension Optimizer {
    /// The effective learning rate of group `index` at the current step.
    public func currentLearningRate(group index: Int = 0) -> Float {
        groups[index].learningRate * schedule.multiplier(atStep: stepCount)
    }

    /// All parameters in group order.
    public var allParameters: [Parameter] { groups.flatMap(\.parameters) }
}

/// A problem restoring optimiser state.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// Per-parameter state kept as flat float arrays, owned by the optimiser alone (so it may be
/// updated in place), with the save/load of ``Optimizer/stateDict()``.
struct SlotStore {
    /// Names of the slots per parameter (`["momentum"]`, `["exp_avg", "exp_avg_sq"]`).
    let slotNames: [String]
    /// `slots[groupIndex][parameterIndex][slotIndex]`, created lazily on the first update.
    private(set) var slots: [[[TensorStorage?]]]

    init(groups: [ParameterGroup], slotNames: [String]) {
        self.slotNames = slotNames
        slots = groups.map { group in group.parameters.map { _ in [TensorStorage?](repeating: nil, count: slotNames.count) } }
    }

    /// The state laid out for `newGroups`: each parameter keeps its slots (found by identity in
    /// `oldGroups`); parameters new to the optimiser start without.
    mutating func follow(from oldGroups: [ParameterGroup], to newGroups: [ParameterGroup]) {
        slots = relaid(slots, from: oldGroups, to: newGroups, fresh: [TensorStorage?](repeating: nil, count: slotNames.count))
    }

    /// The slots of one parameter, zero-initialised on first use (`isNew`).
    mutating func storages(group: Int, parameter: Int, count: Int) -> (slots: [TensorStorage], isNew: Bool) {
        let isNew = slots[group][parameter].contains { $0 == nil }
        let result = (0..<slotNames.count).map { slot in
            if let existing = slots[group][parameter][slot] {
                precondition(existing.count == count, "optimizer: parameter \(parameter) of group \(group) changed size from \(existing.count) to \(count) after its state was created")
                return existing
            }
            let fresh = TensorStorage(count: count)
            fresh.buffer.initialize(repeating: 0)
            slots[group][parameter][slot] = fresh
            return fresh
        }
        return (result, isNew)
    }

    func stateDict(groups: [ParameterGroup], stepCount: Int) -> [String: Tensor] {
        var state: [String: Tensor] = ["step": stepTensor(stepCount)]
        for (g, group) in groups.enumerated() {
            for (p, parameter) in group.parameters.enumerated() {
                for (s, name) in slotNames.enumerated() {
                    guard let storage = slots[g][p][s] else { continue }
                    let copy = Tensor(shape: parameter.shape) { $0.update(from: storage.buffer) }
                    state["\(g).\(p).\(name)"] = copy
                }
            }
        }
        return state
    }

    mutating func load(_ state: [String: Tensor], groups: [ParameterGroup]) throws -> Int {
        guard let step = state["step"], let stepCount = stepCount(step) else {
            throw OptimizerStateError(description: "optimizer state: missing or invalid 'step' entry")
        }
        var expected = Set(["step"])
        var restored = slots
        for (g, group) in groups.enumerated() {
            for (p, parameter) in group.parameters.enumerated() {
                for (s, name) in slotNames.enumerated() {
                    let key = "\(g).\(p).\(name)"
                    expected.insert(key)
                    guard let tensor = state[key] else { restored[g][p][s] = nil; continue }
                    guard tensor.shape == parameter.shape else {
                        throw OptimizerStateError(description: "optimizer state: '\(key)' has shape \(tensor.shape), parameter \(p) of group '\(group.name)' has \(parameter.shape)")
                    }
                    let storage = TensorStorage(count: tensor.count)
                    tensor.withUnsafeBufferPointer { storage.buffer.update(from: $0) }
                    restored[g][p][s] = storage
                }
            }
        }
        let unexpected = Set(state.keys).subtracting(expected)
        guard unexpected.isEmpty else {
            throw OptimizerStateError(description: "optimizer state: unexpected keys \(unexpected.sorted()) (expected '<group>.<parameter>.\(slotNames.joined(separator: "|"))' for these parameters)")
        }
        slots = restored
        return stepCount
    }
}

/// The step count as saved: a scalar while a Float holds it exactly (below 2²⁴, the format of
/// every earlier checkpoint), else `[count / 2²⁴, count mod 2²⁴]`, both parts exact — a count
/// rounded to a Float would resume the schedule a step off.
func stepTensor(_ count: Int) -> Tensor {
    count < 1 << 24 ? Tensor(Float(count)) : Tensor([Float(count >> 24), Float(count & (1 << 24 - 1))])
}

/// The count ``stepTensor(_:)`` saved, `nil` for anything else.
func stepCount(_ tensor: Tensor) -> Int? {
    if tensor.count == 1 { return wholeCount(tensor.item) }
    guard tensor.shape == [2], let high = wholeCount(tensor.scalars[0]), let low = wholeCount(tensor.scalars[1]),
          low < 1 << 24, high < 1 << 29 else { return nil }
    return high << 24 | low
}

/// Traps when a parameter appears in `groups` more than once: its second place would never be
/// updated (the first update replaces the value the gradient was taken for) and its state would
/// be the first place's or none. PyTorch refuses this too.
func checkDistinct(_ groups: [ParameterGroup], in optimizer: String) {
    var seen: [ObjectIdentifier: String] = [:]
    for group in groups {
        for parameter in group.parameters {
            if let earlier = seen.updateValue(group.name, forKey: ObjectIdentifier(parameter)) {
                preconditionFailure("\(optimizer): a parameter of shape \(parameter.shape) appears twice, in group '\(earlier)' and in group '\(group.name)'; each parameter may be in one group once")
            }
        }
    }
}

/// `values[g][p]` (one per parameter of `oldGroups`) moved to where each parameter sits in
/// `newGroups` (by identity); parameters new to the groups get `fresh`.
func relaid<Value>(_ values: [[Value]], from oldGroups: [ParameterGroup], to newGroups: [ParameterGroup], fresh: Value) -> [[Value]] {
    var byParameter: [ObjectIdentifier: Value] = [:]
    for (g, group) in oldGroups.enumerated() {
        for (p, parameter) in group.parameters.enumerated() { byParameter[ObjectIdentifier(parameter)] = values[g][p] }
    }
    return newGroups.map { $0.parameters.map { byParameter[ObjectIdentifier($0)] ?? fresh } }
}

/// `value` as a count read from a file: a whole number in `0..<2⁵³`, else `nil` (NaN, infinite,
/// negative, fractional or too large to be one).
func wholeCount(_ value: Float) -> Int? {
    value >= 0 && value < 0x1p53 && value == value.rounded() ? Int(value) : nil
}

extension UnsafeMutableBufferPointer where Element == Float {
    /// Copies `source` (same count) into this buffer.
    func update(from source: UnsafeBufferPointer<Float>) {
        precondition(count == source.count, "buffer copy: \(source.count) elements into \(count)")
        memcpy(baseAddress!, source.baseAddress!, count * 4)
    }
    func update(from source: UnsafeMutableBufferPointer<Float>) { update(from: UnsafeBufferPointer(source)) }
}
