/// Which gradients ``Tensor/backward(gradient:retaining:)`` keeps.
public enum GradientRetention: Sendable {
    /// Every tracked tensor's gradient (leaves and intermediates).
    case all
    /// Only leaves (parameters and ``Tensor/trackingGradients()`` tensors): intermediate
    /// gradients are freed as soon as they have been propagated, and each operation's saved
    /// tensors as soon as its backward has run (PyTorch's default `retain_graph=False`), which
    /// more than halves peak memory. The graph can then be differentiated only once: a later
    /// backward through it stops with a precondition failure.
    case leaves
}

extension Tensor {
    /// Reverse-mode differentiation from this tensor.
    ///
    /// For a scalar loss `gradient` may be omitted (it is 1). For a non-scalar output it is the
    /// vector of a vector–Jacobian product and must have this tensor's shape: the seed's
    /// "discriminator input gradients handed to the generator" pattern is
    /// `features.backward(gradient: criticGradients[features]!)`.
    ///
    /// Returns an empty store when this tensor is not on the tape.
    public func backward(gradient: Tensor? = nil, retaining retention: GradientRetention = .all) -> Gradients {
        var gradients = Gradients()
        guard let root = node else { return gradients }
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape,
                         "backward(gradient:): gradient shape \(gradient.shape) does not match output shape \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward(): output of shape \(shape) is not a scalar; pass backward(gradient:)")
            seed = Tensor(shape: shape, scalars: [1])
        }
        gradients.accumulate(seed, for: root)
        withoutGradients {
            for current in Self.topologicalOrder(from: root).reversed() {
                guard let backward = current.backward else {
                    precondition(!current.isReleased || gradients[current] == nil,
                                 "backward: the graph through '\(current.name)' was already differentiated with retaining: .leaves, which frees it; use retaining: .all to differentiate it again")
                    continue
                }
                guard let outputGradient = retention == .all ? gradients[current] : gradients.remove(current) else { continue }
                let inputGradients = backward(outputGradient)
                if retention == .leaves { current.release() }
                precondition(inputGradients.count == current.inputs.count,
                             "backward of '\(current.name)' returned \(inputGradients.count) gradients for \(current.inputs.count) inputs")
                for (input, inputGradient) in zip(current.inputs, inputGradients) {
                    if let input, let inputGradient { gradients.accumulate(inputGradient, for: input) }
                }
            }
        }
        return gradients
    }

    /// Nodes reachable from `root`, each after all of its inputs (iterative: deep graphs must
    /// not overflow the stack).
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(node: GradNode, nextInput: Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while !stack.isEmpty {
            let (current, next) = stack[stack.count - 1]
            if next < current.inputs.count {
                stack[stack.count - 1].nextInput = next + 1
                if let input = current.inputs[next], visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(current)
                stack.removeLast()
            }
        }
        return order
    }
}
