import Tensor

/// Kullback–Leibler divergence `KL(q ‖ p) = Σ_j q_j (log q_j − log p_j)` per row, between
/// target probabilities `q` (constants, `[B, C]`) and the model's log-probabilities `log p`.
///
/// Rows are summed over classes and reduced over the batch (`.mean` = PyTorch's
/// `reduction="batchmean"`). Terms with `q_j = 0` contribute 0 (and no gradient), even where
/// `log p_j = −∞` (PyTorch's `kl_div` gives NaN there).
public func klDivergence(logProbabilities: Tensor, targetProbabilities: Tensor,
                         reduction: LossReduction = .mean) -> Tensor {
    precondition(logProbabilities.rank == 2 && logProbabilities.shape == targetProbabilities.shape,
                 "klDivergence: log-probabilities \(logProbabilities.shape) and target probabilities \(targetProbabilities.shape) must be the same [B, C] shape")
    let q = targetProbabilities.detached()
    let qLogQ = Tensor(shape: q.shape) { out in
        q.withUnsafeBufferPointer { src in
            for i in 0..<src.count { let v = src[i]; out[i] = v > 0 ? v * Foundation.log(v) : 0 }
        }
    }
    // q·log p with the q = 0 terms masked to 0: 0·(−∞) would be NaN.
    let qLogP = Tensor.select(q, q * logProbabilities, Tensor(0))
    let perSample = (qLogQ - qLogP).sum(alongAxis: 1)
    return reduction.apply(perSample)
}

/// Hinton knowledge distillation: `T² · KL(softmax(z_T/T) ‖ softmax(z_S/T))`, batch mean.
///
/// Hinton, Vinyals, Dean, "Distilling the Knowledge in a Neural Network" (2015). The T²
/// factor keeps the gradient's magnitude, `T·(p_S − p_T)` with respect to `z_S`, comparable
/// across temperatures. The teacher's logits are constants. NST's reference code uses T = 4
/// with `grad_scale = 16` = T², i.e. exactly this loss with weight 1.
public func distillationLoss(studentLogits: Tensor, teacherLogits: Tensor, temperature: Float = 4,
                             reduction: LossReduction = .mean) -> Tensor {
    precondition(temperature > 0 && (temperature * temperature).isFinite,
                 "distillationLoss: temperature must be positive and finite (T² too), got \(temperature)")
    trapping { try checkDistillationLogits(student: studentLogits.shape, teacher: teacherLogits.shape, loss: "distillationLoss") }
    let target = withoutGradients { (teacherLogits.detached() / temperature).softmax(alongAxis: 1) }
    let logP = (studentLogits / temperature).logSoftmax(alongAxis: 1)
    return klDivergence(logProbabilities: logP, targetProbabilities: target, reduction: reduction) * (temperature * temperature)
}

import Foundation

/// Throws a ``LossInputError`` for `loss` unless student and teacher logits of these shapes are
/// both `[B, classes]` of one shape.
func checkDistillationLogits(student: [Int], teacher: [Int], loss: String) throws {
    guard student.count == 2 && student == teacher else {
        throw LossInputError(loss: loss, message: "student logits \(student) and teacher logits \(teacher) must be the same [B, classes] shape")
    }
}
