import Tensor
import Layers

/// A weighted sum of named transfer losses, `Σ_i w_i·L_i`, which is itself a
/// ``TransferLoss`` (and an ``AdversarialTransferLoss`` whose critic is the union of its
/// adversarial terms' critics).
///
/// ``evaluate(_:)`` also reports every term's value, for logs. Parameters are named
/// `<term>.<parameter>` (e.g. `l2.projection.weight`, `adda.critic.layer.0.weight`).
///
/// ```swift
/// let loss = WeightedTransferLoss([(5, FeatureL2Transfer()), (50, NeuronSelectivityTransfer(map: "stage4"))])
/// let step = loss.evaluate(context)      // step.total, step.terms
/// ```
public final class WeightedTransferLoss: AdversarialTransferLoss {
    /// One term of the sum.
    public struct Term {
        /// Unique name within the sum (the loss's name, suffixed `#2`, `#3`… on repeats).
        public let name: String
        public let weight: Float
        public let loss: any TransferLoss

        /// The term's unweighted value on `context`, a scalar (shape `[]`); a loss returning
        /// anything else stops, naming the term and the shape.
        public func value(_ context: TransferContext) -> Tensor {
            let value = loss(context)
            precondition(value.count == 1, "WeightedTransferLoss: term '\(name)' returned shape \(value.shape), not a scalar")
            return value.reshaped(to: [])
        }
    }

    /// The value of one term at one step.
    public struct TermValue: Sendable, CustomStringConvertible {
        public let name: String
        public let weight: Float
        /// The term's value before weighting.
        public let value: Float
        public var weighted: Float { weight * value }
        public var description: String { "\(name)=\(value) (×\(weight))" }
    }

    /// A step's total and its breakdown.
    public struct Evaluation {
        /// `Σ w_i·L_i`, on the tape.
        public let total: Tensor
        public let terms: [TermValue]
    }

    public let terms: [Term]

    public init(_ terms: [(weight: Float, loss: any TransferLoss)]) {
        precondition(!terms.isEmpty, "WeightedTransferLoss: needs at least one term")
        var seen: [String: Int] = [:]
        self.terms = terms.map { weight, loss in
            precondition(weight.isFinite, "WeightedTransferLoss: weight of '\(loss.name)' must be finite, got \(weight)")
            let count = (seen[loss.name] ?? 0) + 1
            seen[loss.name] = count
            return Term(name: count == 1 ? loss.name : "\(loss.name)#\(count)", weight: weight, loss: loss)
        }
    }

    /// `name=weight` pairs joined by commas (the spec that rebuilds it, minus options).
    public var name: String { terms.map { "\($0.name)=\($0.weight)" }.joined(separator: ",") }

    public func callAsFunction(_ context: TransferContext) -> Tensor { evaluate(context).total }

    /// Every term's ``TransferLoss/check(_:)``, in order.
    public func check(_ context: TransferContext) throws {
        for term in terms { try term.loss.check(context) }
    }

    /// The total and every term's unweighted value.
    public func evaluate(_ context: TransferContext) -> Evaluation {
        var total: Tensor? = nil
        var values: [TermValue] = []
        for term in terms {
            let value = term.value(context)
            values.append(TermValue(name: term.name, weight: term.weight, value: value.item))
            let weighted = value * term.weight
            total = total.map { $0 + weighted } ?? weighted
        }
        return Evaluation(total: total!, terms: values)
    }

    /// Terms are the children, named by term name.
    public func namedChildren() -> [(name: String, module: any Module)] { terms.map { ($0.name, $0.loss) } }

    /// The sum of the adversarial terms' critic losses (a constant 0 when there are none).
    public func criticLoss(_ context: TransferContext) -> Tensor {
        let losses = terms.compactMap { ($0.loss as? any AdversarialTransferLoss)?.criticLoss(context) }
        return losses.dropFirst().reduce(losses.first ?? Tensor(0)) { $0 + $1 }
    }

    public var criticParameters: [Parameter] {
        terms.flatMap { ($0.loss as? any AdversarialTransferLoss)?.criticParameters ?? [] }
    }

    /// The adversarial terms' critic accuracy, averaged over those that report one; `nil` when
    /// none does.
    public func criticAccuracy(_ context: TransferContext) -> Float? {
        let accuracies = terms.compactMap { ($0.loss as? any AdversarialTransferLoss)?.criticAccuracy(context) }
        guard !accuracies.isEmpty else { return nil }
        return accuracies.reduce(0, +) / Float(accuracies.count)
    }
}
