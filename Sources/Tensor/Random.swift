/// A seedable, explicit pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Randomness in CrossRes is never global: initialisers, dropout, shuffling and degradation
/// take a generator `inout`. Same seed, same machine, same thread count ⇒ the same numbers.
/// The generator is a small value, so saving it (``state``) and restoring it resumes a stream
/// exactly.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The four 64-bit words of xoshiro256** state.
    public private(set) var state: [UInt64]

    /// A generator whose stream is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        state = (0..<4).map { _ in
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The generator of one independent stream of `seed`, keyed by indices (epoch, sample…):
    /// the keys are folded into the seed with the SplitMix64 finaliser, so per-sample
    /// generators need no shared state and do not depend on the order they are created in.
    public init(seed: UInt64, stream keys: UInt64...) {
        var h = seed
        for key in keys {
            h = (h ^ key) &+ 0x9E37_79B9_7F4A_7C15
            h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
        }
        self.init(seed: h)
    }

    /// A generator restored from a saved ``state``.
    public init(state: [UInt64]) {
        precondition(Self.isValid(state), "RandomGenerator(state:): needs four words, not all zero")
        self.state = state
    }

    /// Decodes a saved generator, refusing a state no generator has (not four words, or all
    /// zero: a stream of zeros forever).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let state = try container.decode([UInt64].self, forKey: .state)
        guard Self.isValid(state) else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: container,
                                                   debugDescription: "a generator state is four words, not all zero; got \(state)")
        }
        self.state = state
    }

    /// Whether `state` is one a generator can have: four words, not all zero.
    package static func isValid(_ state: [UInt64]) -> Bool { state.count == 4 && state.contains { $0 != 0 } }

    public mutating func next() -> UInt64 {
        let result = rotate(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotate(state[3], 45)
        return result
    }

    /// A uniform float in `[0, 1)` with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform double in `[0, 1)` with 53 random bits.
    public mutating func nextUniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A standard normal sample (Box–Muller in double precision).
    public mutating func nextNormal() -> Float {
        let u1 = 1 - nextUniformDouble()  // (0, 1]
        let u2 = nextUniformDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// An independent generator derived from this one (for a worker or a sub-task); advances
    /// this generator once.
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
