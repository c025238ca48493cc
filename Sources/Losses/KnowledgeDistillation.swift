import Tensor
import Layers

/// Hinton knowledge distillation on logits: `T²·KL(softmax(z_T/T) ‖ softmax(z_S/T))`, batch
/// mean, default T = 4, weight 1 (see ``distillationLoss(studentLogits:teacherLogits:temperature:reduction:)``).
///
/// NST's reference code attaches KD with `grad_scale = 16` at T = 4, which is this loss with
/// weight 1 (16 = T²); `kd+nst` there is `1·KD + 50·NST` in our terms. Needs
/// `student.logits` and `teacher.logits`, both `[B, classes]`.
public final class KnowledgeDistillation: TransferLoss {
    public static let defaultWeight: Float = 1

    public let name = "kd"
    public let temperature: Float

    public init(temperature: Float = 4) {
        precondition(temperature > 0 && (temperature * temperature).isFinite,
                     "KnowledgeDistillation: temperature must be positive and finite (T² too), got \(temperature)")
        self.temperature = temperature
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        let (student, teacher) = trapping { try logits(context) }
        return distillationLoss(studentLogits: student, teacherLogits: teacher, temperature: temperature)
    }

    public func check(_ context: TransferContext) throws {
        let (student, teacher) = try logits(context)
        try checkDistillationLogits(student: student.shape, teacher: teacher.shape, loss: name)
    }

    private func logits(_ context: TransferContext) throws -> (student: Tensor, teacher: Tensor) {
        guard let student = context.student.logits else { throw LossInputError(loss: name, message: "the student's Features have no logits") }
        guard let teacher = try context.checkedTeacher(for: name).logits else {
            throw LossInputError(loss: name, message: "the teacher's Features have no logits")
        }
        return (student, teacher)
    }
}
