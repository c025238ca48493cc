import CrossRes

/// W2: `Conv2d(64, 64, 3, padding: 1, bias: false)` on a `[32, 64, 56, 56]` input — forward
/// without gradients, and forward + backward of `output.sum()` (input and weight gradients).
enum BenchConvolution {
    static func cases() -> [BenchCase] {
        let batch = 32
        let forward = 2.0 * 32 * 64 * 56 * 56 * 64 * 9
        func setup() -> (Conv2d, Tensor) {
            var rng = RandomGenerator(seed: 0)
            let conv = Conv2d(64, 64, kernelSize: 3, padding: 1, bias: false, using: &rng)
            return (conv, Tensor.randomNormal([batch, 64, 56, 56], using: &rng))
        }
        return [
            BenchCase(id: "w2.conv3x3.forward", workload: "W2 conv3x3 64→64 56×56 b32 forward (no gradients)",
                      variant: "Conv2d", work: .items(Double(batch), unit: "img"), iterations: 15, flops: forward) {
                let (conv, x) = setup()
                return { withExtendedLifetime(withoutGradients { conv(x) }) {} }
            },
            BenchCase(id: "w2.conv3x3.backward", workload: "W2 conv3x3 64→64 56×56 b32 forward+backward",
                      variant: "Conv2d", work: .items(Double(batch), unit: "img"), iterations: 10, flops: 3 * forward) {
                let (conv, x) = setup()
                let input = x.trackingGradients()
                return {
                    let grads = conv(input).sum().backward(retaining: .leaves)
                    withExtendedLifetime((grads[input], grads[conv.weight])) {}
                }
            },
        ]
    }
}
