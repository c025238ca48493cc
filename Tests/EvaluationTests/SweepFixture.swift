import Tensor
@testable import Evaluation

/// A tiny synthetic face world for sweep and report tests: identities are random 8-D prototypes
/// stored as `[1, 1, 8]` "images"; degrading to `s` pixels adds noise of size `16 / s`.
struct SweepFixture {
    let prototypes: [[Float]]
    let noise: [[Float]]

    init(identities: Int = 10, images: Int = 40, seed: UInt64 = 11) {
        var rng = RandomGenerator(seed: seed)
        prototypes = (0..<identities).map { _ in (0..<8).map { _ in Float(rng.nextNormal()) } }
        noise = (0..<(2 * images)).map { _ in (0..<8).map { _ in Float(rng.nextNormal()) } }
    }

    /// `identity[i]`'s image number `i`, degraded to `resolution`.
    func images(_ identity: [Int], resolution: ProbeResolution, noiseOffset: Int) -> ImageSource {
        let amount: Float = if case .pixels(let s) = resolution { 16 / Float(s) } else { 0 }
        let values = identity.enumerated().flatMap { i, id in
            zip(prototypes[id], noise[noiseOffset + i]).map { $0 + amount * $1 }
        }
        return ImageSource(Tensor(shape: [identity.count, 1, 1, 8], scalars: values))
    }

    /// The student: its embedding is the image.
    static func student(_ x: Tensor) -> Tensor { x.flattened() }
    /// A teacher with an unrelated embedding space (coordinates reversed).
    static func teacher(_ x: Tensor) -> Tensor { x.flattened().indexSelect(axis: 1, Array((0..<8).reversed())) }

    /// 40 pairs, alternately genuine and impostor.
    var pairs: (first: [Int], second: [Int], issame: [Bool]) {
        let n = prototypes.count
        let first = (0..<40).map { $0 % n }
        let second = (0..<40).map { $0 % 2 == 0 ? $0 % n : ($0 + 3) % n }
        return (first, second, (0..<40).map { $0 % 2 == 0 })
    }
}
