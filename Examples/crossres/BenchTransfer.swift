import CrossRes

/// W4 (and W5c): one transfer step — frozen teacher in eval mode on the HR batch, student trained
/// on the LR batch (HR down-sampled bicubically with antialiasing, then up-sampled bicubically
/// back, prepared outside the step), loss = ArcFace CE(student) + 5 · mean_i ‖n(s_i) − n(t_i)‖²
/// with n the L2 normalisation, Adam (lr 1e-3) over student + head.
enum BenchTransfer {
    /// `batch` synthetic HR faces of `size × size` pixels.
    static func hrImages(batch: Int, size: Int) -> [Image] {
        let faces = SyntheticFaces(identities: batch, imagesPerIdentity: 1, size: size)
        return (0..<batch).map { faces.sample(at: $0).image }
    }

    /// The LR view of `hr` (`size → low → size`: bicubic, antialiased down, bicubic up) as a
    /// network-input batch: what `*.lrprep` times, like PyTorch's `make_lr` on an existing batch.
    static func lrBatch(_ hr: [Image], low: Int) -> Tensor {
        let degradation = Degradation(target: .size(.fixed(low)), interpolation: .bicubic, antialias: true, up: .original)
        var rng = RandomGenerator(seed: 3)
        return Image.batchTensor(hr.map { degradation.apply(to: $0, using: &rng) })
    }

    /// An HR batch of synthetic faces and its LR view, as network inputs.
    static func batches(batch: Int, size: Int, low: Int) -> (hr: Tensor, lr: Tensor) {
        let hr = hrImages(batch: batch, size: size)
        return (Image.batchTensor(hr), lrBatch(hr, low: low))
    }

    static func step(teacher: any FeatureExtractor, projection: Tensor?, student: any FeatureExtractor, head: MarginHead,
                     hr: Tensor, lr: Tensor, labels: [Int]) -> () -> Void {
        _ = teacher.eval().freeze()
        _ = student.train()
        let optimizer = Adam(parameters: student.trainableParameters() + head.trainableParameters(), learningRate: 1e-3)
        return {
            let target = withoutGradients { () -> Tensor in
                let t = teacher(hr)
                return (projection.map { t.matmul($0, transposeOther: true) } ?? t).l2Normalized(axis: 1)
            }
            let s = student(lr)
            let transfer = (s.l2Normalized(axis: 1) - target).square().sum(alongAxes: [1]).mean()
            let loss = head.loss(s, labels: labels) + 5 * transfer
            optimizer.step(loss.backward(retaining: .leaves))
        }
    }

    /// The transfer-step case and the LR preparation, which the step does not include. `*.lrprep`
    /// renders the HR faces untimed and times only their degradation and the LR tensor (PyTorch's
    /// `make_lr` times its two `F.interpolate` calls on an existing HR tensor).
    static func cases(id: String, workload: String, batch: Int, size: Int, low: Int, studentEmbedding: Int, flops: Double,
                      iterations: Int, teacher: @escaping (inout RandomGenerator) -> any FeatureExtractor,
                      student: @escaping (inout RandomGenerator) -> any FeatureExtractor) -> [BenchCase] {
        [
            BenchCase(id: "\(id).lrprep", workload: "\(workload): LR batch preparation (not in the step)",
                      variant: "\(size)→\(low)→\(size) bicubic", work: .items(Double(batch), unit: "img"), iterations: 3) {
                let hr = hrImages(batch: batch, size: size)
                return { withExtendedLifetime(lrBatch(hr, low: low)) {} }
            },
            BenchCase(id: id, workload: workload, variant: "teacher fwd + student train", work: .items(Double(batch), unit: "img"),
                      iterations: iterations, flops: flops * Double(batch)) {
                var rng = RandomGenerator(seed: 0)
                let t = teacher(&rng), s = student(&rng)
                let head = BenchTraining.head(embedding: studentEmbedding, using: &rng)
                // A fixed random projection of the teacher's 512-d embedding when the student's is smaller.
                let projection = studentEmbedding == 512 ? nil
                    : Tensor.randomUniform([studentEmbedding, 512], low: -1 / Float(512).squareRoot(), high: 1 / Float(512).squareRoot(), using: &rng)
                let (hr, lr) = batches(batch: batch, size: size, low: low)
                return step(teacher: t, projection: projection, student: s, head: head, hr: hr, lr: lr,
                            labels: BenchTraining.labels(batch, using: &rng))
            },
        ]
    }

    /// W4: MobileFaceNet teacher on HR 112, MobileFaceNet student on 16→112.
    static func w4(batch: Int = 64) -> [BenchCase] {
        let macs = BenchTraining.MACs.mobileFaceNet112
        let flops = BenchTraining.flops(forwardMACs: macs, embedding: 1).forward + BenchTraining.flops(forwardMACs: macs, embedding: 512).train
        let configuration = MobileFaceNet.Configuration(layout: .benchmark)
        return cases(id: "w4.transfer", workload: "W4 transfer step 112 b\(batch)", batch: batch, size: 112, low: 16,
                     studentEmbedding: 512, flops: flops, iterations: 5,
                     teacher: { MobileFaceNet(configuration, using: &$0) }, student: { MobileFaceNet(configuration, using: &$0) })
    }
}
