import Tensor

/// A parameter that is fixed or drawn per sample: `v`, a range `lo..hi` (uniform, inclusive
/// for integers), or a choice `a|b|c` (uniform over the listed values, so a repeated value is
/// drawn more often).
public enum Sampled<Value: Comparable & Sendable>: Sendable, Equatable {
    case fixed(Value)
    case range(ClosedRange<Value>)
    case choice([Value])

    /// The smallest value it can take.
    public var lowerBound: Value {
        switch self {
        case .fixed(let v): return v
        case .range(let r): return r.lowerBound
        case .choice(let values): return values.min()!
        }
    }

    /// The largest value it can take.
    public var upperBound: Value {
        switch self {
        case .fixed(let v): return v
        case .range(let r): return r.upperBound
        case .choice(let values): return values.max()!
        }
    }

    /// Whether every draw gives the same value.
    public var isFixed: Bool { lowerBound == upperBound }
}

extension Sampled: CustomStringConvertible {
    /// The spec text: `v`, `lo..hi` or `a|b|c`, whole numbers without a fraction (`0..0.6`, not
    /// `0.0..0.6`: as specs are written).
    public var description: String {
        switch self {
        case .fixed(let v): return Self.text(v)
        case .range(let r): return "\(Self.text(r.lowerBound))..\(Self.text(r.upperBound))"
        case .choice(let values): return values.map(Self.text).joined(separator: "|")
        }
    }

    private static func text(_ value: Value) -> String {
        if let number = value as? Float, number == number.rounded(), abs(number) < 1e7 { return String(Int(number)) }
        return "\(value)"
    }
}

extension Sampled where Value == Int {
    /// A value drawn with `rng`. A value that cannot vary (``isFixed``: `.fixed`, a range `x...x`,
    /// a choice of equal values) consumes no randomness, so it draws exactly like `.fixed(x)`
    /// (what a range `x..x` and a one-value choice's description `x` parse to).
    public func draw(using rng: inout RandomGenerator) -> Int {
        if isFixed { return lowerBound }
        switch self {
        case .fixed(let v): return v
        case .range(let r): return r.lowerBound + Int(rng.next() % UInt64(r.count))
        case .choice(let values): return values[Int(rng.next() % UInt64(values.count))]
        }
    }
}

extension Sampled where Value == Float {
    /// A value drawn with `rng`. A value that cannot vary (``isFixed``: `.fixed`, a range `x...x`,
    /// a choice of equal values) consumes no randomness, so it draws exactly like `.fixed(x)`
    /// (what a range `x..x` and a one-value choice's description `x` parse to).
    public func draw(using rng: inout RandomGenerator) -> Float {
        if isFixed { return lowerBound }
        switch self {
        case .fixed(let v): return v
        case .range(let r): return r.lowerBound + (r.upperBound - r.lowerBound) * rng.nextUniform()
        case .choice(let values): return values[Int(rng.next() % UInt64(values.count))]
        }
    }
}
