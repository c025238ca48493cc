import Tensor

/// Additive white Gaussian noise (sensor noise): `x + σ·n`, `n ~ N(0, 1)` independently per
/// value, clamped to `0...255`. `σ` is in pixel levels (0…255).
extension Image {
    public func addingGaussianNoise(sigma: Float, using rng: inout RandomGenerator) -> Image {
        guard sigma > 0 else { return self }
        var out = self
        out.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = min(max(buffer[i] + sigma * rng.nextNormal(), 0), 255) }
        }
        return out
    }
}
