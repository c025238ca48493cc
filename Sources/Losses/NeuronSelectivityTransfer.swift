import Tensor
import Layers

/// Neuron selectivity transfer (Huang & Wang, "Like What You Like: Knowledge Distill via Neuron
/// Selectivity Transfer", arXiv 1707.01219): match the distributions of the teacher's and the
/// student's per-channel activation patterns by MMD.
///
/// For each sample, a map `[C, H, W]` becomes `C` vectors in `R^{HW}`, each L2-normalised over
/// its spatial positions (`f / max(‖f‖, 1e-5)`; TuSimple's code uses MXNet
/// `L2Normalization(mode='spatial')`, `f / √(Σf² + 1e-10)`, which differs only for norms near
/// 1e-5 and also scales a dead channel's gradient by 1e5); then
///
///     L = mean_b MMD²({f_S^i}, {f_T^j})        (see maximumMeanDiscrepancy)
///
/// with the polynomial kernel `(xᵀy)²` by default (d = 2, c = 0, the only kernel in the
/// reference code), linear or Gaussian as options. Default weight **50** (`kt_weight = 50`).
///
/// Paper vs code: the paper writes `λ/2·MMD²`; the code multiplies `MMD²` *minus* the constant
/// teacher–teacher term by 50. We keep the full MMD² (as RepDistiller and mdistiller do, with
/// the same weight 50), so the loss is 0 for identical maps and its gradient equals the code's;
/// `includeTeacherTerm: false` gives the code's value.
///
/// Shapes: student and teacher maps `[B, C, H, W]`; channel counts may differ (the two sets
/// just have different sizes). When spatial sizes differ, the larger map is reduced to the
/// smaller size on each axis by ``adaptiveAveragePool2D(_:outputHeight:outputWidth:)`` (as
/// RepDistiller/mdistiller do); the reference code has both at 7×7. Combine with
/// ``KnowledgeDistillation`` for the paper's best "NST + KD" setting.
public final class NeuronSelectivityTransfer: TransferLoss {
    public static let defaultWeight: Float = 50

    public let name = "nst"
    /// Names of the maps in the student's and the teacher's ``Features/maps``.
    public let studentMap: String, teacherMap: String
    public let kernel: MMDKernel
    public let includeTeacherTerm: Bool

    /// A fixed Gaussian σ² in `kernel` must be finite and positive.
    public init(studentMap: String, teacherMap: String, kernel: MMDKernel = .nstPolynomial, includeTeacherTerm: Bool = true) {
        kernel.checkParameters("nst")
        self.studentMap = studentMap
        self.teacherMap = teacherMap
        self.kernel = kernel
        self.includeTeacherTerm = includeTeacherTerm
    }

    /// Student and teacher maps with the same name.
    public convenience init(map: String, kernel: MMDKernel = .nstPolynomial, includeTeacherTerm: Bool = true) {
        self.init(studentMap: map, teacherMap: map, kernel: kernel, includeTeacherTerm: includeTeacherTerm)
    }

    /// Per-sample MMD² `[B]` between two `[B, C, H, W]` maps (the teacher's detached).
    public func discrepancies(student: Tensor, teacher: Tensor) -> Tensor {
        trapping { try checkMaps(student: student.shape, teacher: teacher.shape) }
        let h = min(student.shape[2], teacher.shape[2]), w = min(student.shape[3], teacher.shape[3])
        func selectivities(_ map: Tensor) -> Tensor {
            let pooled = adaptiveAveragePool2D(map, outputHeight: h, outputWidth: w)
            let rows = pooled.reshaped(to: [map.shape[0] * map.shape[1], h * w])
            return rows.l2Normalized(axis: 1, eps: 1e-5).reshaped(to: [map.shape[0], map.shape[1], h * w])
        }
        return maximumMeanDiscrepancy(selectivities(student), selectivities(teacher.detached()),
                                      kernel: kernel, includeTargetTerm: includeTeacherTerm)
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        let teacher = context.requireTeacher(for: name)
        return discrepancies(student: context.student.requireMap(studentMap, owner: "student", loss: name),
                             teacher: teacher.requireMap(teacherMap, owner: "teacher", loss: name)).mean()
    }

    public func check(_ context: TransferContext) throws {
        let teacher = try context.checkedTeacher(for: name)
        try checkMaps(student: context.student.checkedMap(studentMap, owner: "student", loss: name).shape,
                      teacher: teacher.checkedMap(teacherMap, owner: "teacher", loss: name).shape)
    }

    private func checkMaps(student: [Int], teacher: [Int]) throws {
        guard student.count == 4 && teacher.count == 4 else {
            throw LossInputError(loss: name, message: "feature maps must be [B, C, H, W], got student \(student) and teacher \(teacher)")
        }
        guard student[0] == teacher[0] else {
            throw LossInputError(loss: name, message: "student batch size \(student[0]) differs from teacher batch size \(teacher[0])")
        }
    }
}
