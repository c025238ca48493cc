/// A readable rendering: shape, then nested values, eliding the middle of long axes.
extension Tensor: CustomStringConvertible {
    /// Axes longer than this show their first and last three entries only.
    static let elisionLength = 8

    public var description: String {
        let values = rank == 0 ? format(storage.base[0]) : render(axis: 0, offset: 0)
        let dimensions = rank == 0 ? "scalar" : shape.map(String.init).joined(separator: "×")
        return "Tensor(\(dimensions)\(requiresGradient ? ", tracked" : "")) \(values)"
    }

    private func render(axis: Int, offset: Int) -> String {
        let n = shape[axis]
        let step = shape[(axis + 1)...].reduce(1, *)
        let elide = count > 64 && n > Tensor.elisionLength
        let indices = elide ? Array(0..<3) + [-1] + Array((n - 3)..<n) : Array(0..<n)
        let parts = indices.map { i -> String in
            if i < 0 { return "…" }
            return axis == rank - 1 ? format(storage.base[offset + i]) : render(axis: axis + 1, offset: offset + i * step)
        }
        let separator = axis == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1)
        return "[" + parts.joined(separator: separator) + "]"
    }

    private func format(_ x: Float) -> String {
        if x == x.rounded() && Swift.abs(x) < 1e6 { return String(Int(x)) }
        return String(format: "%.4g", Double(x))
    }
}

import Foundation
