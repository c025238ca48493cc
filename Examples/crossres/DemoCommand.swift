import CrossRes
import Foundation

/// `crossres demo`: until the trainer lands, a demonstration of the Tensor API — fitting a
/// two-layer network to a noisy sine with autograd and Adam.
enum DemoCommand {
    static let help = """
        usage: crossres demo [--quick] [--seed N] [--output DIR]
          --quick       a short run (CI smoke test)
          --seed N      random seed (default 1)
          --output DIR  run folder (accepted for forward compatibility; nothing is written yet)
        """

    static func run(_ arguments: [String]) throws {
        var quick = false, seed: UInt64 = 1
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--help", "-h": print(help); return
            case "--quick": quick = true
            case "--seed":
                guard let text = rest.popFirst(), let value = UInt64(text) else { throw CommandLineError("--seed needs a non-negative integer") }
                seed = value
            case "--output":
                guard rest.popFirst() != nil else { throw CommandLineError("--output needs a folder") }
            default: throw CommandLineError("unknown option '\(flag)'\n\(help)")
            }
        }
        var rng = RandomGenerator(seed: seed)
        let n = 256, hidden = 32
        let x = Tensor.randomUniform([n, 1], low: -3, high: 3, using: &rng)
        let y = x.sin() + Tensor.randomNormal([n, 1], standardDeviation: 0.05, using: &rng)
        let w1 = Parameter(Tensor.randomNormal([1, hidden], standardDeviation: 1, using: &rng))
        let b1 = Parameter(Tensor.zeros([hidden]))
        let w2 = Parameter(Tensor.randomNormal([hidden, 1], standardDeviation: 0.2, using: &rng))
        let b2 = Parameter(Tensor.zeros([1]))
        let adam = Adam(parameters: [w1, b1, w2, b2], learningRate: 0.02)
        let steps = quick ? 200 : 2000
        for step in 0...steps {
            let prediction = (x.matmul(w1.value) + b1.value).tanh().matmul(w2.value) + b2.value
            let loss = (prediction - y).square().mean()
            if step % (steps / 10) == 0 { print("step \(step): mean squared error \(loss.item)") }
            adam.step(loss.backward())
        }
    }
}
