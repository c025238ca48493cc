import Tensor
import Layers

/// A pluggable transfer objective: a named scalar function of a ``TransferContext``.
///
/// Losses are ``Module``s, so the parameters they own (projection heads, domain heads,
/// critics) are found by reflection like a network's — `loss.parameters()` — and can be
/// given to an optimiser and saved in a checkpoint.
///
/// ```swift
/// final class CosineEmbedding: TransferLoss {
///     let name = "cosine"
///     func callAsFunction(_ context: TransferContext) -> Tensor {
///         let s = context.student.embedding.l2Normalized(axis: 1)
///         let t = context.requireTeacher(for: name).embedding.detached().l2Normalized(axis: 1)
///         return 1 - (s * t).sum(alongAxis: 1).mean()
///     }
/// }
/// ```
public protocol TransferLoss: Module {
    /// A short name, used in reports and in the loss spec.
    var name: String { get }
    /// The loss value for one step, a scalar on the tape.
    func callAsFunction(_ context: TransferContext) -> Tensor
    /// Throws a ``LossInputError`` when `context` cannot feed the loss — features it reads
    /// are missing or their shapes do not fit — on which `callAsFunction` would stop the
    /// program. Trainers call it first (``DistillationTask`` at every step, before any loss);
    /// the default accepts every context. An ``AdversarialTransferLoss``'s check covers its
    /// ``AdversarialTransferLoss/criticLoss(_:)`` and accuracy too (their source features).
    func check(_ context: TransferContext) throws
}

extension TransferLoss {
    public func check(_ context: TransferContext) throws {}
}

/// Why inputs cannot feed a loss: a ``TransferContext`` a transfer loss cannot use
/// (``TransferLoss/check(_:)``), embeddings or labels a ``MarginHead`` cannot
/// (``MarginHead/check(embeddingShape:labels:)``).
public struct LossInputError: Error, CustomStringConvertible, Equatable {
    /// The loss's name (a transfer loss's ``TransferLoss/name``).
    public let loss: String
    public let message: String

    public init(loss: String, message: String) {
        self.loss = loss
        self.message = message
    }

    public var description: String { "\(loss): \(message)" }
}

/// A two-player transfer objective (ADDA-style), trained by alternating steps.
///
/// The trainer (1) minimises ``criticLoss(_:)`` over ``criticParameters`` with its own
/// optimiser — the critic sees detached inputs, so no gradient reaches the encoders — then
/// (2) minimises `callAsFunction` (the encoder's objective, inverted labels) over the student's
/// parameters and ``nonCriticParameters``. Step (2)'s backward also reaches the critic's
/// parameters; the encoder optimiser must not update them.
public protocol AdversarialTransferLoss: TransferLoss {
    /// The critic's objective for the current batch (inputs detached).
    func criticLoss(_ context: TransferContext) -> Tensor
    /// The parameters the critic's optimiser trains.
    var criticParameters: [Parameter] { get }
    /// Fraction of the batch the critic classifies correctly (source as source, target as
    /// target), for the log, the encoder gate and the collapse watch; `nil` (the default) when
    /// the loss cannot say.
    func criticAccuracy(_ context: TransferContext) -> Float?
}

extension AdversarialTransferLoss {
    public func criticAccuracy(_ context: TransferContext) -> Float? { nil }

    /// The loss's own parameters that are not the critic's (they belong to the encoder step).
    public var nonCriticParameters: [Parameter] {
        let critic = Set(criticParameters.map(ObjectIdentifier.init))
        return parameters().filter { !critic.contains(ObjectIdentifier($0)) }
    }
}
