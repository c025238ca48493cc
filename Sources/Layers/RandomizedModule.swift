import Tensor

/// A module whose forward pass draws random numbers (dropout): its ``generator`` is part of its
/// state, as a buffer is: training checkpoints (`Checkpoint`, module Training) save and restore
/// it, so a resumed run draws the masks the uninterrupted run would have, and
/// ``GradientCheck/run(_:module:epsilon:relativeTolerance:absoluteTolerance:maxElementsPerInput:seed:_:)``
/// puts it back before every evaluation, so each draws the same masks.
public protocol RandomizedModule: Module {
    /// The stream the module draws from.
    var generator: RandomGenerator { get set }
}

extension Module {
    /// This module and every module below it that draws random numbers, named as in
    /// ``namedModules()``.
    public func namedRandomizedModules() -> [(name: String, module: any RandomizedModule)] {
        namedModules().compactMap { entry in (entry.module as? any RandomizedModule).map { (entry.name, $0) } }
    }
}
