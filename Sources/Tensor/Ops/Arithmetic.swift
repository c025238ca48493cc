/// Elementwise arithmetic with NumPy broadcasting, and the gradients of each operation.
extension Tensor {
    /// Sums `self` down to `target`, the shape it was broadcast from (the adjoint of
    /// ``broadcast(to:)``).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(Shape.broadcast(target, shape, "sum(toShape:)") == shape,
                     "sum(toShape:): shape \(shape) is not a broadcast of \(target)")
        let offset = rank - target.count
        let axes = (0..<rank).filter { $0 < offset || (target[$0 - offset] == 1 && shape[$0] != 1) }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }

    /// Records a broadcasting binary operation whose partial derivatives are `da(g)` and
    /// `db(g)` in the broadcast shape.
    @inline(__always)
    static func binary(_ name: String, _ a: Tensor, _ b: Tensor, value: Tensor,
                       da: @escaping (Tensor) -> Tensor?, db: @escaping (Tensor) -> Tensor?) -> Tensor {
        guard needsGradient(a, b) else { return value }
        let sa = a.shape, sb = b.shape
        let ta = a.node != nil, tb = b.node != nil
        return recordOperation(name, value: value, inputs: [a, b]) { g in
            [ta ? da(g)?.sum(toShape: sa) : nil, tb ? db(g)?.sum(toShape: sb) : nil]
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        binary("add", a, b, value: Elementwise.zip(a, b, "+", Elementwise.Add()), da: { $0 }, db: { $0 })
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        binary("subtract", a, b, value: Elementwise.zip(a, b, "-", Elementwise.Subtract()), da: { $0 }, db: { -$0 })
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let ca = a.detached(), cb = b.detached()
        return binary("multiply", a, b, value: Elementwise.zip(a, b, "*", Elementwise.Multiply()), da: { $0 * cb }, db: { $0 * ca })
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let ca = a.detached(), cb = b.detached()
        return binary("divide", a, b, value: Elementwise.zip(a, b, "/", Elementwise.Divide()),
                      da: { $0 / cb }, db: { -$0 * ca / cb.square() })
    }

    public static prefix func - (x: Tensor) -> Tensor {
        unary("negate", x, Elementwise.map(x, Elementwise.Negate())) { g in -g }
    }

    /// `a` raised to `b` elementwise (broadcast). The gradient with respect to `b` uses `log a`
    /// and is only meaningful for `a > 0`; as in PyTorch it is 0 where `a = 0` and `b ≥ 0`, and
    /// the gradient with respect to `a` is 0 where `b = 0` (`0·0^(−1)` would be NaN).
    public static func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
        let ca = a.detached(), cb = b.detached()
        let value = Elementwise.zip(a, b, "pow", Elementwise.Pow())
        return binary("pow", a, b, value: value,
                      da: { select(cb.equalMask(Tensor(0)), Tensor(0), $0 * cb * pow(ca, cb - 1)) },
                      db: { select(ca.equalMask(Tensor(0)) * cb.greaterEqualMask(Tensor(0)), Tensor(0), $0 * value * ca.log()) })
    }

    /// Elementwise maximum; where the two are equal the gradient goes to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let choose = a.greaterEqualMask(b)
        return binary("maximum", a, b, value: Elementwise.zip(a, b, "maximum", Elementwise.Maximum()),
                      da: { $0 * choose }, db: { $0 * (1 - choose) })
    }

    /// Elementwise minimum; where the two are equal the gradient goes to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let choose = b.greaterEqualMask(a)
        return binary("minimum", a, b, value: Elementwise.zip(a, b, "minimum", Elementwise.Minimum()),
                      da: { $0 * choose }, db: { $0 * (1 - choose) })
    }

    // MARK: Scalars

    public static func + (a: Tensor, b: Float) -> Tensor { unary("addScalar", a, Elementwise.map(a, Elementwise.AddScalar(b: b))) { $0 } }
    public static func + (a: Float, b: Tensor) -> Tensor { b + a }
    public static func - (a: Tensor, b: Float) -> Tensor { a + -b }
    public static func - (a: Float, b: Tensor) -> Tensor { unary("rsubScalar", b, Elementwise.map(b, Elementwise.SubtractFromScalar(a: a))) { -$0 } }
    public static func * (a: Tensor, b: Float) -> Tensor { unary("scale", a, Elementwise.map(a, Elementwise.Scale(b: b))) { $0 * b } }
    public static func * (a: Float, b: Tensor) -> Tensor { b * a }
    public static func / (a: Tensor, b: Float) -> Tensor { unary("divideByScalar", a, Elementwise.map(a, Elementwise.DivideBy(b: b))) { $0 / b } }
    public static func / (a: Float, b: Tensor) -> Tensor {
        let cb = b.detached()
        return unary("rdivScalar", b, Elementwise.map(b, Elementwise.DivideScalar(a: a))) { g in -g * a / cb.square() }
    }

    /// `x^p` for a constant exponent; for `p = 0` the gradient is 0 everywhere, `x = 0` included
    /// (as PyTorch's; `p·x^(p−1)` would be `0·∞`).
    public func pow(_ p: Float) -> Tensor {
        let x = detached()
        return Tensor.unary("powScalar", self, Elementwise.map(self, Elementwise.PowScalar(p: p))) { g in
            p == 0 ? g.zerosLike() : g * p * Elementwise.map(x, Elementwise.PowScalar(p: p - 1))
        }
    }
}

import Foundation
