/// A trainable tensor: a reference shared by a model, its optimiser and its state dict.
///
/// Its ``value`` is a leaf of the autograd tape while ``isTrainable`` is true; optimisers
/// rebind it after each step (the tensor itself stays immutable). Read its gradient from a
/// ``Gradients`` store *before* rebinding: `gradients[parameter]`.
public final class Parameter {
    /// The current value; assigning it makes a fresh leaf (or a constant when frozen).
    public var value: Tensor {
        get { current }
        set { current = Parameter.leaf(newValue, trainable: isTrainable) }
    }

    /// What ``value`` holds: a tape leaf while trainable, a constant when frozen.
    private var current: Tensor

    /// Whether gradients are computed for this parameter (`freeze()` clears it).
    public var isTrainable: Bool {
        didSet { if isTrainable != oldValue { value = value.detached() } }
    }

    public init(_ value: Tensor, trainable: Bool = true) {
        self.isTrainable = trainable
        self.current = Parameter.leaf(value, trainable: trainable)
    }

    /// Runs `body` with ``value`` replaced by `substitute`, then puts back the very tensor it
    /// held: the same leaf, so a ``Gradients`` store computed before still reads this parameter.
    func withTemporaryValue<Result>(_ substitute: Tensor, _ body: () -> Result) -> Result {
        let original = current
        defer { current = original }
        value = substitute
        return body()
    }

    /// Shape of the value.
    public var shape: [Int] { value.shape }

    private static func leaf(_ tensor: Tensor, trainable: Bool) -> Tensor {
        trainable ? tensor.trackingGradients() : tensor.detached()
    }
}

/// Non-trainable state that a model saves and loads with its parameters (BatchNorm running
/// statistics). Never on the tape.
public final class Buffer {
    /// The current value; always a constant.
    public var value: Tensor { didSet { value = value.detached() } }

    public init(_ value: Tensor) { self.value = value.detached() }

    /// Shape of the value.
    public var shape: [Int] { value.shape }
}
