/// Gradients produced by ``Tensor/backward(gradient:retaining:)``, readable for parameters and
/// for any tracked tensor of the graph (a discriminator's *input*, say).
public struct Gradients {
    private var store: [ObjectIdentifier: (node: GradNode, gradient: Tensor)] = [:]

    public init() {}

    /// The gradient with respect to `tensor`, or `nil` if it is not on the tape, took no part
    /// in the loss, or was not retained.
    public subscript(tensor: Tensor) -> Tensor? {
        guard let node = tensor.node else { return nil }
        return store[ObjectIdentifier(node)]?.gradient
    }

    /// The gradient with respect to a parameter's current value.
    public subscript(parameter: Parameter) -> Tensor? { self[parameter.value] }

    /// The gradient stored for `node`.
    public subscript(node: GradNode) -> Tensor? { store[ObjectIdentifier(node)]?.gradient }

    /// Number of stored gradients.
    public var count: Int { store.count }

    /// Adds `gradient` to what is stored for `node`.
    mutating func accumulate(_ gradient: Tensor, for node: GradNode) {
        precondition(gradient.shape == node.shape,
                     "backward: gradient of shape \(gradient.shape) for '\(node.name)' whose output has shape \(node.shape)")
        let key = ObjectIdentifier(node)
        if let existing = store[key] {
            store[key] = (node, withoutGradients { existing.gradient + gradient })
        } else {
            store[key] = (node, gradient.detached())
        }
    }

    mutating func remove(_ node: GradNode) -> Tensor? { store.removeValue(forKey: ObjectIdentifier(node))?.gradient }

    /// Every gradient transformed by `transform` (e.g. scaled for clipping).
    public func mapGradients(_ transform: (Tensor) -> Tensor) -> Gradients {
        var result = Gradients()
        for (key, entry) in store { result.store[key] = (entry.node, withoutGradients { transform(entry.gradient) }) }
        return result
    }

    /// Sum of two gradient stores (gradient accumulation over several backward passes).
    public static func + (lhs: Gradients, rhs: Gradients) -> Gradients {
        var sum = lhs
        for (_, entry) in rhs.store { sum.accumulate(entry.gradient, for: entry.node) }
        return sum
    }

    /// `lhs += rhs`.
    public static func += (lhs: inout Gradients, rhs: Gradients) { lhs = lhs + rhs }
}
