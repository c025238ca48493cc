import Tensor

extension GradientCheck {
    /// Checks the gradients of `function`, a forward pass of `module`, with respect to `inputs`
    /// and every trainable parameter of `module` (named as in ``Module/namedParameters()`` in the
    /// report; frozen parameters have no gradient and are left out).
    ///
    /// The module is checked in the mode it is in, and left as it was found: each parameter holds
    /// its very tensor again, and every buffer its value from before the check. A forward pass in
    /// training mode moves BatchNorm's `running_mean`, `running_var` and `num_batches_tracked`
    /// (which its training-mode output does not read); the buffers are put back before every
    /// evaluation, so each one starts from the state the module was found in. So are the
    /// generators of its dropout layers (``RandomizedModule``): in training mode every evaluation
    /// draws the same masks, and the check differentiates the function those masks define.
    ///
    /// ```swift
    /// let report = GradientCheck.run([x], module: block) { t in block(t[0]) }
    /// ```
    ///
    /// The other arguments are those of ``GradientCheck/run(_:parameters:epsilon:relativeTolerance:absoluteTolerance:maxElementsPerInput:seed:_:)``.
    public static func run(_ inputs: [Tensor], module: any Module, epsilon: Float = 1e-3, relativeTolerance: Double = 2e-2,
                           absoluteTolerance: Double = 2e-3, maxElementsPerInput: Int = 64, seed: UInt64 = 0x5EED,
                           _ function: ([Tensor]) -> Tensor) -> Report {
        let buffers = module.buffers().map { (buffer: $0, value: $0.value) }
        let generators = module.namedRandomizedModules().map { (module: $0.module, generator: $0.module.generator) }
        func restoreState() {
            for (buffer, value) in buffers { buffer.value = value }
            for (randomized, generator) in generators { randomized.generator = generator }
        }
        defer { restoreState() }
        return run(inputs, parameters: module.namedParameters().filter(\.parameter.isTrainable), epsilon: epsilon,
                   relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
                   maxElementsPerInput: maxElementsPerInput, seed: seed) { point in
            restoreState()
            return function(point)
        }
    }
}
