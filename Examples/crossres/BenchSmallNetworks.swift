import CrossRes

/// W5, the 32×32 variants at batch 64: MobileFaceNet-32 train step (W5a), TinyResNet32 train step
/// (W5b), and the transfer step teacher MobileFaceNet-32 → student TinyResNet32 on 8→32 LR (W5c).
enum BenchSmallNetworks {
    static func cases(batch: Int = 64) -> [BenchCase] {
        let mbf = MobileFaceNet.Configuration(inputSize: 32, layout: .benchmark)
        let mbfFlops = BenchTraining.flops(forwardMACs: BenchTraining.MACs.mobileFaceNet32, embedding: 512)
        let tinyFlops = BenchTraining.flops(forwardMACs: BenchTraining.MACs.tinyResNet32, embedding: 128)
        let transferFlops = BenchTraining.flops(forwardMACs: BenchTraining.MACs.mobileFaceNet32, embedding: 1).forward + tinyFlops.train
        return [
            BenchTraining.trainCase(id: "w5a.train", workload: "W5a MobileFaceNet-32 train step b\(batch)", variant: "fwd + ArcFace + bwd + Adam",
                                    batch: batch, size: 32, flops: mbfFlops.train, iterations: 15,
                                    model: { MobileFaceNet(mbf, using: &$0) }, embedding: 512),
            BenchTraining.trainCase(id: "w5b.train", workload: "W5b TinyResNet32 train step b\(batch)", variant: "fwd + ArcFace + bwd + Adam",
                                    batch: batch, size: 32, flops: tinyFlops.train, iterations: 15,
                                    model: { TinyResNet32(using: &$0) }, embedding: 128),
        ] + BenchTransfer.cases(id: "w5c.transfer", workload: "W5c transfer step 32 b\(batch)", batch: batch, size: 32, low: 8,
                                studentEmbedding: 128, flops: transferFlops, iterations: 15,
                                teacher: { MobileFaceNet(mbf, using: &$0) }, student: { TinyResNet32(using: &$0) })
    }
}
