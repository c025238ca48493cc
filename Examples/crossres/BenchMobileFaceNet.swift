import CrossRes

/// W3: MobileFaceNet (`layout: .benchmark`) at 112×112, batch 64 — train step (forward, ArcFace
/// over 1000 classes, backward, Adam) and eval-mode forward without gradients (the teacher's role).
enum BenchMobileFaceNet {
    static func cases(batch: Int = 64) -> [BenchCase] {
        let flops = BenchTraining.flops(forwardMACs: BenchTraining.MACs.mobileFaceNet112, embedding: 512)
        let configuration = MobileFaceNet.Configuration(layout: .benchmark)
        return [
            BenchTraining.trainCase(id: "w3.train", workload: "W3 MobileFaceNet 112 train step b\(batch)",
                                    variant: "fwd + ArcFace + bwd + Adam", batch: batch, size: 112, flops: flops.train,
                                    iterations: 7, model: { MobileFaceNet(configuration, using: &$0) }, embedding: 512),
            BenchCase(id: "w3.eval", workload: "W3 MobileFaceNet 112 eval forward b\(batch)", variant: "eval, no gradients",
                      work: .items(Double(batch), unit: "img"), iterations: 7, flops: flops.forward * Double(batch)) {
                var rng = RandomGenerator(seed: 0)
                let model = MobileFaceNet(configuration, using: &rng).eval()
                let x = Tensor.randomNormal([batch, 3, 112, 112], using: &rng)
                return { withExtendedLifetime(withoutGradients { model(x) }) {} }
            },
        ]
    }
}
