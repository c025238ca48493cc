/// One recorded operation on the autograd tape (micrograd-sized).
///
/// A node knows the shape of the tensor it produced, the nodes of its inputs, and a closure
/// that turns the gradient of its output into the gradients of its inputs (a vector–Jacobian
/// product). Leaves (trainable ``Parameter`` values, or tensors marked with
/// ``Tensor/trackingGradients()``) have no inputs and no closure.
public final class GradNode {
    /// Shape of the tensor this node produced; gradients flowing into it must have it.
    public let shape: [Int]
    /// Nodes of the inputs, aligned with the results of `backward` (`nil` for untracked inputs).
    private(set) var inputs: [GradNode?]
    /// Output gradient → one gradient per input (`nil` where an input needs none).
    private(set) var backward: ((Tensor) -> [Tensor?])?
    /// A label for error messages and graph dumps.
    public let name: String
    /// Whether a ``Tensor/backward(gradient:retaining:)`` with ``GradientRetention/leaves`` has
    /// run `backward` and dropped it (with the tensors it saved).
    private(set) var isReleased = false

    init(shape: [Int], inputs: [GradNode?], name: String, backward: ((Tensor) -> [Tensor?])?) {
        self.shape = shape
        self.inputs = inputs
        self.backward = backward
        self.name = name
    }

    /// Releases the graph above this node iteratively: the default recursive release of a long
    /// chain (tens of thousands of recorded operations) would overflow the thread's stack.
    deinit {
        var pending = inputs.compactMap { $0 }
        inputs = []
        while var node = pending.popLast() {
            guard isKnownUniquelyReferenced(&node) else { continue }
            pending.append(contentsOf: node.inputs.compactMap { $0 })
            node.inputs = []
            node.backward = nil
        }
    }

    /// Whether this node is a leaf (no recorded inputs).
    public var isLeaf: Bool { backward == nil && !isReleased }

    /// Drops the backward closure and with it the tensors the operation saved for its gradient.
    func release() {
        backward = nil
        isReleased = true
    }
}

extension Tensor {
    /// A copy of this tensor as a fresh leaf on the tape, so that gradients with respect to it
    /// can be read from ``Gradients``. Used for inputs of gradient checks and for input gradients.
    public func trackingGradients() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradNode(shape: shape, inputs: [], name: "leaf", backward: nil))
    }

    /// Records a custom differentiable operation — the public custom-backward hook.
    ///
    /// `value` is the result computed without the tape; `backward` receives the gradient of
    /// the result and returns one gradient per input (same shapes as the inputs, `nil` for no
    /// gradient). Nothing is recorded when gradients are disabled or no input is tracked.
    ///
    /// ```swift
    /// // Gradient reversal: identity forward, −λ·g backward.
    /// let y = Tensor.recordOperation("reverse", value: x.detached(), inputs: [x]) { g in [g * -lambda] }
    /// ```
    public static func recordOperation(_ name: String, value: Tensor, inputs: [Tensor],
                                       backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        guard GradientMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return value.detached() }
        let node = GradNode(shape: value.shape, inputs: inputs.map(\.node), name: name, backward: backward)
        return Tensor(shape: value.shape, storage: value.storage, node: node)
    }

    /// Whether any of `inputs` would be recorded by an operation right now.
    @inlinable
    public static func needsGradient(_ inputs: Tensor...) -> Bool {
        GradientMode.isEnabled && inputs.contains { $0.node != nil }
    }
}
