/// Unary elementwise functions and their derivatives.
extension Tensor {
    /// Records a one-input operation with vector–Jacobian product `vjp`.
    @inline(__always)
    static func unary(_ name: String, _ x: Tensor, _ value: Tensor, _ vjp: @escaping (Tensor) -> Tensor) -> Tensor {
        guard needsGradient(x) else { return value }
        return recordOperation(name, value: value, inputs: [x]) { g in [vjp(g)] }
    }

    public func abs() -> Tensor {
        let x = detached()
        return Tensor.unary("abs", self, Elementwise.map(self, Elementwise.Abs())) { g in g * x.sign() }
    }

    /// −1, 0 or 1 (a constant).
    public func sign() -> Tensor { Elementwise.map(detached(), Elementwise.Sign()) }

    public func exp() -> Tensor {
        let y = Elementwise.map(self, Elementwise.Exp())
        return Tensor.unary("exp", self, y) { g in g * y }
    }

    public func log() -> Tensor {
        let x = detached()
        return Tensor.unary("log", self, Elementwise.map(self, Elementwise.Log())) { g in g / x }
    }

    public func sqrt() -> Tensor {
        let y = Elementwise.map(self, Elementwise.Sqrt())
        return Tensor.unary("sqrt", self, y) { g in g * 0.5 / y }
    }

    /// `1 / √x`.
    public func rsqrt() -> Tensor {
        let y = Elementwise.map(self, Elementwise.Rsqrt())
        return Tensor.unary("rsqrt", self, y) { g in g * -0.5 * y * y * y }
    }

    public func square() -> Tensor {
        let x = detached()
        return Tensor.unary("square", self, Elementwise.map(self, Elementwise.Square())) { g in g * x * 2 }
    }

    public func relu() -> Tensor {
        let x = detached()
        return Tensor.unary("relu", self, Elementwise.map(self, Elementwise.Relu())) { g in
            Elementwise.zip(g, x, "relu", Elementwise.ReluGradient())
        }
    }

    /// `x` for `x > 0`, `slope·x` otherwise.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let x = detached()
        return Tensor.unary("leakyRelu", self, Elementwise.map(self, Elementwise.LeakyRelu(slope: slope))) { g in
            Elementwise.zip(g, x, "leakyRelu", Elementwise.LeakyReluGradient(slope: slope))
        }
    }

    public func sigmoid() -> Tensor {
        let y = Elementwise.map(self, Elementwise.Sigmoid())
        return Tensor.unary("sigmoid", self, y) { g in g * y * (1 - y) }
    }

    public func tanh() -> Tensor {
        let y = Elementwise.map(self, Elementwise.Tanh())
        return Tensor.unary("tanh", self, y) { g in g * (1 - y.square()) }
    }

    public func sin() -> Tensor {
        let x = detached()
        return Tensor.unary("sin", self, Elementwise.map(self, Elementwise.Sin())) { g in g * x.cos() }
    }

    public func cos() -> Tensor {
        let x = detached()
        return Tensor.unary("cos", self, Elementwise.map(self, Elementwise.Cos())) { g in -g * x.sin() }
    }

    /// `acos(clamp(x, −1 + ε, 1 − ε))`: inputs are clamped so the value and its derivative
    /// `−1/√(1 − x²)` stay finite (the gradient is 0 where clamping happened).
    public func acos(epsilon: Float = 1e-7) -> Tensor {
        clamped(min: -1 + epsilon, max: 1 - epsilon).acosUnclamped()
    }

    private func acosUnclamped() -> Tensor {
        let x = detached()
        return Tensor.unary("acos", self, Elementwise.map(self, Elementwise.Acos())) { g in
            -g * (1 - x.square()).rsqrt()
        }
    }

    /// Values limited to `[min, max]`; the gradient is zero outside.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        precondition(lower <= upper, "clamped: min \(lower) is above max \(upper)")
        let x = detached()
        return Tensor.unary("clamp", self, Elementwise.map(self, Elementwise.Clamp(lower: lower, upper: upper))) { g in
            Elementwise.zip(g, x, "clamp", Elementwise.ClampGradient(lower: lower, upper: upper))
        }
    }

    /// Non-finite elements replaced by `value` (a constant; used for stable log-sum-exp).
    func replacingNonFinite(with value: Float) -> Tensor { Elementwise.map(detached(), Elementwise.ReplaceNonFinite(value: value)) }
}

import Foundation
