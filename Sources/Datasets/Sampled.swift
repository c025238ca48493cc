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
    /// The spec text: `v`, `lo..hi` or `a|b|c`.
    public var description: String {
        switch self {
        case .fixed(let v): return "\(v)"
        case .range(let r): return "\(r.lowerBound)..\(r.upperBound)"
        case .choice(let values): return values.map { "\($0)" }.joined(separator: "|")
        }
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
