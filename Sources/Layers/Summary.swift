import Tensor

/// Per-layer output shapes collected while ``Layer/summary(inputShape:)`` runs a forward pass.
final class ShapeTrace: Sendable {
    @TaskLocal static var current: ShapeTrace?
    private let shapes = Locked<[ObjectIdentifier: [Int]]>([:])

    func record(_ module: AnyObject, _ shape: [Int]) { shapes.withLock { $0[ObjectIdentifier(module)] = shape } }
    func shape(of module: AnyObject) -> [Int]? { shapes.withLock { $0[ObjectIdentifier(module)] } }
}

extension Module {
    /// Returns `output` unchanged, noting its shape for ``Layer/summary(inputShape:)`` when one is
    /// being built (otherwise a single task-local read).
    @inlinable
    public func recorded(_ output: Tensor) -> Tensor {
        recordShape(output.shape)
        return output
    }

    @usableFromInline
    func recordShape(_ shape: [Int]) { ShapeTrace.current?.record(self, shape) }
}

extension Layer {
    /// A table of every layer (dotted name, type, output shape, parameters) for one forward pass
    /// of zeros of `inputShape` (in evaluation mode, without gradients; the mode is restored).
    ///
    /// Leaf modules are listed with their own parameters, containers that record their output
    /// with the total of their subtree.
    public func summary(inputShape: [Int]) -> String {
        let trace = ShapeTrace()
        let leaves = namedModules().map(\.module).filter { $0.namedChildren().isEmpty }
        let modes = leaves.map(\.isTraining)
        eval()
        let output = ShapeTrace.$current.withValue(trace) { withoutGradients { self(Tensor.zeros(inputShape)) } }
        for (leaf, mode) in zip(leaves, modes) { leaf.isTraining = mode }

        var rows: [(String, String, String, String)] = [("Layer", "Type", "Output shape", "Parameters")]
        for (name, module) in namedModules() where !name.isEmpty {
            let isLeaf = module.namedChildren().isEmpty
            let shape = trace.shape(of: module)
            guard isLeaf || shape != nil else { continue }
            let depth = name.split(separator: ".").count - 1
            rows.append((String(repeating: "  ", count: depth) + name, String(describing: type(of: module)),
                         shape.map { "\($0)" } ?? "-", String(module.parameterCount)))
        }
        let widths = [rows.map(\.0.count).max()!, rows.map(\.1.count).max()!, rows.map(\.2.count).max()!, rows.map(\.3.count).max()!]
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: w - s.count) }
        var lines = rows.map { "\(pad($0.0, widths[0]))  \(pad($0.1, widths[1]))  \(pad($0.2, widths[2]))  \($0.3)" }
        lines.insert(String(repeating: "-", count: lines[0].count), at: 1)
        lines.append("Input \(inputShape) → output \(output.shape)")
        lines.append("Total parameters: \(parameterCount) (trainable \(trainableParameterCount))")
        return lines.joined(separator: "\n")
    }
}
