import Tensor

/// A network component that owns parameters, buffers and sub-modules.
///
/// Everything is found by reflection over stored properties (own and inherited), recursing
/// into modules, arrays and optionals, with PyTorch's dotted `state_dict` names:
/// a property `runningMean` of the module at `body.3.layers.1` is
/// `body.3.layers.1.running_mean` (camelCase labels are written in snake_case, array elements
/// by index, optionals unwrapped). Override ``namedChildren()``, ``namedParameters()`` or
/// ``namedBuffers()`` for custom containers or names. A module must not store a reference to
/// one of its ancestors (not even `weak`): reflection would follow the cycle without end.
///
/// ```swift
/// final class Block: Layer {
///     let conv: Conv2d, bn: BatchNorm2d
///     init(using g: inout RandomGenerator) {
///         conv = Conv2d(3, 8, kernelSize: 3, padding: 1, bias: false, using: &g)
///         bn = BatchNorm2d(8)
///     }
///     func callAsFunction(_ x: Tensor) -> Tensor { bn(conv(x)).relu() }
/// }
/// // Block().namedParameters(): conv.weight, bn.weight, bn.bias
/// ```
public protocol Module: AnyObject {
    /// Direct sub-modules with their names. Default: reflection.
    func namedChildren() -> [(name: String, module: any Module)]
    /// Every parameter of this module and its descendants, with dotted names, shared
    /// parameters listed once. Default: reflection.
    func namedParameters() -> [(name: String, parameter: Parameter)]
    /// Every buffer (non-trainable state such as BatchNorm running statistics), dotted names.
    func namedBuffers() -> [(name: String, buffer: Buffer)]
    /// Training (batch statistics, dropout on) or evaluation mode. Layers whose behaviour
    /// depends on it store it; the default reads and sets it on all children (a module with
    /// no mode-dependent descendants reports `true`).
    var isTraining: Bool { get set }
}

extension Module {
    public func namedChildren() -> [(name: String, module: any Module)] { ModuleReflection.members(of: self).children }

    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var seen = Set<ObjectIdentifier>()
        return ModuleReflection.reflectedParameters(of: self).filter { seen.insert(ObjectIdentifier($0.parameter)).inserted }
    }

    public func namedBuffers() -> [(name: String, buffer: Buffer)] { ModuleReflection.reflectedBuffers(of: self) }

    public var isTraining: Bool {
        get { namedChildren().allSatisfy { $0.module.isTraining } }
        set { for child in namedChildren() { child.module.isTraining = newValue } }
    }

    /// All parameters (each once), in `namedParameters()` order.
    public func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// Parameters that currently receive gradients.
    public func trainableParameters() -> [Parameter] { parameters().filter(\.isTrainable) }

    /// All buffers, in `namedBuffers()` order.
    public func buffers() -> [Buffer] { namedBuffers().map(\.buffer) }

    /// This module (name `""`) and every descendant, depth first, with dotted names.
    public func namedModules() -> [(name: String, module: any Module)] {
        var result: [(name: String, module: any Module)] = [("", self)]
        for child in namedChildren() {
            for (name, module) in child.module.namedModules() {
                result.append((name.isEmpty ? child.name : child.name + "." + name, module))
            }
        }
        return result
    }

    /// Switches to training mode (BatchNorm uses batch statistics, dropout is active).
    @discardableResult
    public func train() -> Self { isTraining = true; return self }

    /// Switches to evaluation mode (BatchNorm uses running statistics, dropout is off).
    @discardableResult
    public func eval() -> Self { isTraining = false; return self }

    /// Stops gradients for every parameter (a frozen teacher or backbone).
    @discardableResult
    public func freeze() -> Self { for p in parameters() { p.isTrainable = false }; return self }

    /// Makes every parameter trainable, as PyTorch's `requires_grad_(True)` — including one a
    /// model keeps frozen by design (IResNet's `features.weight`): re-freeze it after if wanted.
    @discardableResult
    public func unfreeze() -> Self { for p in parameters() { p.isTrainable = true }; return self }

    /// Number of scalars in all parameters (buffers excluded, as PyTorch counts).
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Number of scalars in trainable parameters.
    public var trainableParameterCount: Int { trainableParameters().reduce(0) { $0 + $1.value.count } }
}
