// A user-written transfer loss, composed with two built-in ones, and checked with the public
// gradient checker.
//
//     swift run CustomTransferLoss
import Tensor
import Layers
import Losses

/// Similarity-preserving distillation (Tung & Mori, ICCV 2019): the student's batch similarity
/// matrix should look like the teacher's,
///
///     G = row-normalise(X·Xᵀ),   L = ‖G_S − G_T‖²_F / B².
///
/// Only the `name` and `callAsFunction` are needed. A loss with parameters just stores them
/// (a `Parameter`, a `Linear`…) and `parameters()` finds them by reflection. `check` is
/// optional: it lets a trainer stop with an error where the loss would stop the program.
final class SimilarityPreserving: TransferLoss {
    let name = "similarity"

    func check(_ context: TransferContext) throws {
        let teacher = try context.checkedTeacher(for: name).embedding, student = context.student.embedding
        guard student.rank == 2 && teacher.rank == 2 && student.shape[0] == teacher.shape[0] else {
            throw LossInputError(loss: name, message: "embeddings must be [B, D] of one B, got student \(student.shape) and teacher \(teacher.shape)")
        }
    }

    func callAsFunction(_ context: TransferContext) -> Tensor {
        trapping { try check(context) }  // (stops with the check's message, in release builds too)
        let teacher = context.requireTeacher(for: name).embedding.detached()
        let student = context.student.embedding
        func similarities(_ x: Tensor) -> Tensor { x.matmul(x, transposeOther: true).l2Normalized(axis: 1) }
        let b = Float(student.shape[0])
        return (similarities(student) - similarities(teacher)).square().sum() / (b * b)
    }
}

var generator = RandomGenerator(seed: 2024)
let student = Tensor.randomNormal([6, 8], using: &generator)
let teacher = Tensor.randomNormal([6, 8], using: &generator)

// Ours plus two built-ins; the weights are the seed's for L2 and the DarkRank README's.
let loss = WeightedTransferLoss([
    (1, SimilarityPreserving()),
    (FeatureL2Transfer.defaultWeight, FeatureL2Transfer()),
    (16, DarkRank(mode: .soft(listLength: 3))),
])

let teacherFeatures = Features(embedding: teacher)
let context = { (embedding: Tensor) in TransferContext(student: Features(embedding: embedding), teacher: teacherFeatures) }

let step = loss.evaluate(context(student))
print("loss \(loss.name) = \(step.total.item)")
for term in step.terms { print("  \(term.name): \(term.value) × \(term.weight) = \(term.weighted)") }

// The total is of order 100, so float32 rounding of the loss divided by the finite-difference
// step (≈ 6e-8·|L|/ε) would swamp the default ε = 1e-3: use a larger step.
let report = GradientCheck.run([student], epsilon: 1e-2) { inputs in loss(context(inputs[0])) }
print(report)
guard report.passed else { fatalError("the composed loss's gradient does not match finite differences: \(report)") }

// The same loss from the command-line spec, with our term added to it.
let fromSpec = try TransferSpec.parse("l2=5,darkrank-soft=16:k=3", configuration: TransferLossConfiguration(studentEmbeddingDimension: 8))
let combined = WeightedTransferLoss([(1, SimilarityPreserving()), (1, fromSpec)])
print("spec version: \(combined(context(student)).item) (same as above: \(step.total.item))")

// A batch the loss cannot take is an error when checked first (DistillationTask checks every
// step): DarkRank with lists of 3 ranks each sample's 3 nearest others, so it needs 4 rows.
let three = { (x: Tensor) in Features(embedding: x.narrowed(axis: 0, start: 0, length: 3)) }
do {
    try loss.check(TransferContext(student: three(student), teacher: three(teacher)))
    fatalError("a batch of 3 passed the check of a loss that needs 4 rows")
} catch {
    print("checked before computing: \(error)")
}
