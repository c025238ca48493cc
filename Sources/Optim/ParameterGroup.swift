import Tensor

/// Parameters trained with one learning rate and weight decay (PyTorch's parameter groups).
///
/// The seed trains a discriminator and an encoder at different rates; a backbone and a
/// freshly initialised head are another common split.
public struct ParameterGroup {
    /// A label for logs and saved optimiser state.
    public var name: String
    public var parameters: [Parameter]
    /// Base learning rate; the optimiser multiplies it by its schedule.
    public var learningRate: Float
    /// Weight decay (L2 for SGD/Adam, decoupled for AdamW).
    public var weightDecay: Float

    public init(name: String = "default", parameters: [Parameter], learningRate: Float, weightDecay: Float = 0) {
        precondition(learningRate >= 0 && learningRate.isFinite, "ParameterGroup '\(name)': learning rate must be finite and ≥ 0, got \(learningRate)")
        precondition(weightDecay >= 0 && weightDecay.isFinite, "ParameterGroup '\(name)': weight decay must be finite and ≥ 0, got \(weightDecay)")
        self.name = name
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}
