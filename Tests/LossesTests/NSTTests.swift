import Testing
import Tensor
import Layers
@testable import Losses

@Suite("Neuron selectivity transfer")
struct NSTTests {
    /// methods.md §2 test vector as [1, C, 2, 2] maps.
    static var student: Tensor { Tensor(shape: [1, 2, 2, 2], scalars: [1, 0, 0, 1, 0, 2, 1, 0]) }
    static var teacher: Tensor { Tensor(shape: [1, 3, 2, 2], scalars: [1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0]) }

    func context(_ s: Tensor, _ t: Tensor) -> TransferContext {
        TransferContext(student: Features(embedding: Tensor.zeros([s.shape[0], 1]), maps: ["stage4": s]),
                        teacher: Features(embedding: Tensor.zeros([t.shape[0], 1]), maps: ["stage4": t]))
    }

    @Test func reproducesVector() {
        let ctx = context(Self.student, Self.teacher)
        expectClose(NeuronSelectivityTransfer(map: "stage4")(ctx).item, 0.494444, "full MMD²")
        let code = NeuronSelectivityTransfer(map: "stage4", includeTeacherTerm: false)(ctx).item
        expectClose(code, 0.05, "reference code value")
        expectClose(50 * code, 2.5, "× 50")
        expectClose(NeuronSelectivityTransfer(map: "stage4", kernel: .linear)(ctx).item, 0.133919, "linear")
        expectClose(NeuronSelectivityTransfer(map: "stage4", kernel: .gaussian())(ctx).item, 0.151665, "gaussian")
    }

    @Test func teacherTermDoesNotChangeTheGradient() {
        let s = Self.student.trackingGradients()
        let full = NeuronSelectivityTransfer(map: "stage4")(context(s, Self.teacher)).backward()[s]!
        let code = NeuronSelectivityTransfer(map: "stage4", includeTeacherTerm: false)(context(s, Self.teacher)).backward()[s]!
        expectClose(full.scalars, code.scalars, "∂/∂student")
    }

    @Test func zeroForIdenticalMaps() {
        let x = randomTensor([2, 3, 4, 4], seed: 30)
        for kernel: MMDKernel in [.nstPolynomial, .linear, .gaussian()] {
            expectClose(NeuronSelectivityTransfer(map: "stage4", kernel: kernel)(context(x, x)).item, 0, atol: 1e-5, "\(kernel)")
        }
    }

    @Test func differentChannelsAndSpatialSizes() {
        // Teacher 8×8 with 5 channels, student 4×4 with 3: the teacher is pooled to 4×4.
        let s = randomTensor([2, 3, 4, 4], seed: 31), t = randomTensor([2, 5, 8, 8], seed: 32)
        let nst = NeuronSelectivityTransfer(map: "stage4")
        let pooled = adaptiveAveragePool2D(t, outputHeight: 4, outputWidth: 4)
        expectClose(nst(context(s, t)).item, nst(context(s, pooled)).item, "pooling")
        expectGradientsMatch([s]) { nst(context($0[0], t)) }
        // A fixed bandwidth: the rule's is a constant of each step, which a finite difference would vary
        // (MMDTests.bandwidthRuleIsAConstantOfTheStep checks that part).
        expectGradientsMatch([s]) { NeuronSelectivityTransfer(map: "stage4", kernel: .gaussian(variance: 0.3))(context($0[0], t)) }
    }

    @Test func adaptivePoolingMatchesPyTorchBins() {
        // 5 → 3 bins: [0,2), [1,4), [3,5) (PyTorch floor/ceil rule).
        let x = Tensor(shape: [1, 1, 1, 5], scalars: [1, 2, 3, 4, 5])
        expectClose(adaptiveAveragePool2D(x, outputHeight: 1, outputWidth: 3).scalars, [1.5, 3, 4.5], "bins")
        let y = randomTensor([2, 2, 5, 7], seed: 33)
        expectGradientsMatch([y]) { adaptiveAveragePool2D($0[0], outputHeight: 3, outputWidth: 4) }
        let z = randomTensor([1, 1, 4, 4], seed: 34)
        expectClose(adaptiveAveragePool2D(z, outputHeight: 2, outputWidth: 2).scalars,
                    [0, 2].flatMap { r in [0, 2].map { c in (z[0, 0, r, c] + z[0, 0, r, c + 1] + z[0, 0, r + 1, c] + z[0, 0, r + 1, c + 1]) / 4 } },
                    "2×2 average")
    }

    @Test func combinesWithKnowledgeDistillation() {
        let student = Features(embedding: Tensor.zeros([1, 1]), logits: Tensor([[2, 1, 0]]), maps: ["stage4": Self.student])
        let teacher = Features(embedding: Tensor.zeros([1, 1]), logits: Tensor([[3, 0, -1]]), maps: ["stage4": Self.teacher])
        let loss = WeightedTransferLoss([(1, KnowledgeDistillation(temperature: 4)), (50, NeuronSelectivityTransfer(map: "stage4"))])
        let step = loss.evaluate(TransferContext(student: student, teacher: teacher))
        expectClose(step.total.item, 0.498266 + 50 * 0.494444, "KD + 50·NST")
        #expect(step.terms.map(\.name) == ["kd", "nst"])
    }
}
