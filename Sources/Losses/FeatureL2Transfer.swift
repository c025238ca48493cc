import Tensor
import Layers

/// Feature transfer by embedding regression (the seed's item 1): L2-normalise the student's
/// embedding of the LR view and the teacher's embedding of the HR view, then
///
///     .squared   (default)   ℓ_b = ‖ŝ_b − t̂_b‖²  = 2 − 2·cos(s_b, t_b)
///     .euclidean             ℓ_b = √(‖ŝ_b − t̂_b‖² + 1e-12)
///     .cosine                ℓ_b = 1 − ŝ_bᵀt̂_b   (half the squared distance)
///
/// reduced by the batch mean. Default weight **5** (the seed: "normalise both 512-d features,
/// Euclidean distance, weight 5"). We read "Euclidean distance" as the squared distance, the
/// usual regression loss and smooth at 0; `.euclidean` gives the literal distance. Gradient
/// (squared) with respect to the raw student feature: `−(2/‖s‖)·(t̂ − (ŝᵀt̂)ŝ)`.
///
/// When the student's dimension differs from the teacher's, a learnable linear projection
/// `P: D_s → D_t` (no bias) maps the student embedding first; it is part of the loss's
/// parameters. Teacher features are constants. Needs `student.embedding [B, D_s]` and
/// `teacher.embedding [B, D_t]`, the same faces row for row.
public final class FeatureL2Transfer: TransferLoss {
    public enum Distance: String, Sendable, CaseIterable { case squared, euclidean, cosine }

    /// Weight in the seed's recipe.
    public static let defaultWeight: Float = 5

    public let name = "l2"
    public let distance: Distance
    /// Student → teacher projection, when dimensions differ.
    public let projection: Linear?

    /// A loss on embeddings of equal dimension.
    public init(distance: Distance = .squared) {
        self.distance = distance
        self.projection = nil
    }

    /// A loss with a learnable projection when `studentDimension ≠ teacherDimension`.
    public init(distance: Distance = .squared, studentDimension: Int, teacherDimension: Int,
                using generator: inout RandomGenerator) {
        self.distance = distance
        self.projection = studentDimension == teacherDimension ? nil
            : Linear(studentDimension, teacherDimension, bias: false, using: &generator)
    }

    /// Per-sample distances `[B]` (before the batch mean).
    public func distances(student: Tensor, teacher: Tensor) -> Tensor {
        trapping { try checkEmbeddings(student: student.shape, teacher: teacher.shape) }
        let projected = projection.map { $0(student) } ?? student
        let s = projected.l2Normalized(axis: 1), t = teacher.detached().l2Normalized(axis: 1)
        switch distance {
        case .squared: return (s - t).square().sum(alongAxis: 1)
        case .euclidean: return ((s - t).square().sum(alongAxis: 1) + 1e-12).sqrt()
        case .cosine: return 1 - (s * t).sum(alongAxis: 1)
        }
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        distances(student: context.student.embedding, teacher: context.requireTeacher(for: name).embedding).mean()
    }

    public func check(_ context: TransferContext) throws {
        try checkEmbeddings(student: context.student.embedding.shape, teacher: context.checkedTeacher(for: name).embedding.shape)
    }

    /// `[B, D_s]` student and `[B, D_t]` teacher embeddings, `D_s → D_t` through the projection.
    private func checkEmbeddings(student: [Int], teacher: [Int]) throws {
        try checkPairedEmbeddings(student: student, teacher: teacher, loss: name)
        if let projection {
            guard projection.inFeatures == student[1] && projection.outFeatures == teacher[1] else {
                throw LossInputError(loss: name, message: "the projection maps dimension \(projection.inFeatures) to \(projection.outFeatures), but the student's embeddings have \(student[1]) and the teacher's \(teacher[1])")
            }
        } else if student[1] != teacher[1] {
            throw LossInputError(loss: name, message: "student dimension \(student[1]) differs from teacher dimension \(teacher[1]); build the loss with init(distance:studentDimension:teacherDimension:using:) for a projection")
        }
    }
}
