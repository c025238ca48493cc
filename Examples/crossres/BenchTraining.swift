import CrossRes
import Foundation

/// What the network workloads W3–W5 share with `../shared/bench/pytorch/bench_torch.py`: 1000
/// classes, ArcFace s = 64, m = 0.5 (threshold fallback) + cross-entropy, Adam lr 1e-3, and the
/// FLOP counts of its `count_macs` (conv and linear MACs only, × 2; a train step counts 3×).
enum BenchTraining {
    static let classes = 1000

    /// Forward MACs of one image, as `models.py`'s `count_macs` gives them (conv: Cout·Hout·Wout·Cin/groups·kh·kw,
    /// linear: in·out), without the ArcFace head.
    enum MACs {
        static let mobileFaceNet112 = 437_520_896.0
        static let mobileFaceNet32 = 143_040_512.0
        static let tinyResNet32 = 106_790_912.0
    }

    /// FLOPs of one image's forward pass (2 × MACs) and of a train step (3 × the forward with the head).
    static func flops(forwardMACs: Double, embedding: Int) -> (forward: Double, train: Double) {
        let head = Double(embedding * classes)
        return (2 * forwardMACs, 3 * 2 * (forwardMACs + head))
    }

    /// Random labels in `0..<classes`.
    static func labels(_ count: Int, using rng: inout RandomGenerator) -> [Int] {
        (0..<count).map { _ in Int(rng.next() % UInt64(classes)) }
    }

    /// The ArcFace head of the workloads over `embedding`-d features.
    static func head(embedding: Int, using rng: inout RandomGenerator) -> MarginHead {
        MarginHead.arcFace(classes: classes, embeddingDimension: embedding, scale: 64, margin: 0.5, using: &rng)
    }

    /// One train step of `model` + `head` on `x`: forward, ArcFace CE, backward, Adam (lr 1e-3).
    static func trainStep(model: any FeatureExtractor, head: MarginHead, x: Tensor, labels: [Int]) -> () -> Void {
        _ = model.train()
        let optimizer = Adam(parameters: model.trainableParameters() + head.trainableParameters(), learningRate: 1e-3)
        return {
            let loss = head.loss(model(x), labels: labels)
            optimizer.step(loss.backward(retaining: .leaves))
        }
    }

    /// A train-step case, images per second, with the step's FLOPs.
    static func trainCase(id: String, workload: String, variant: String, batch: Int, size: Int, flops: Double,
                          iterations: Int, model: @escaping (inout RandomGenerator) -> any FeatureExtractor,
                          embedding: Int) -> BenchCase {
        BenchCase(id: id, workload: workload, variant: variant, work: .items(Double(batch), unit: "img"),
                  iterations: iterations, flops: flops * Double(batch)) {
            var rng = RandomGenerator(seed: 0)
            let net = model(&rng)
            let head = head(embedding: embedding, using: &rng)
            let x = Tensor.randomNormal([batch, 3, size, size], using: &rng)
            return trainStep(model: net, head: head, x: x, labels: labels(batch, using: &rng))
        }
    }
}
