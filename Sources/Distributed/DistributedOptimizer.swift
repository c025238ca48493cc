import Tensor
import Optim

/// Any optimiser made data-parallel: before each step, the gradients of its parameters are
/// summed over the ranks and scaled, `g = (1/N) Σ_r g_r`, so every rank applies the same update — the
/// mean of the per-shard gradients, which for a loss that is a mean over the batch equals the
/// gradient of the global batch (Goyal et al., "Accurate, Large Minibatch SGD", 2017).
///
/// Gradients travel in the few contiguous buffers of a ``GradientBuckets`` layout (one
/// `MPI_Allreduce` per bucket), in the inner optimiser's parameter order. The state dict,
/// groups, schedule and step count are the inner optimiser's, so a checkpoint of a distributed
/// run loads into a plain one and back.
///
/// A failing all-reduce cannot be thrown from ``step(_:)`` (the protocol's step does not
/// throw): it ends every rank through ``ProcessGroup/abort(_:code:)`` with MPI's message.
public final class DistributedOptimizer: Optimizer {
    public let inner: any Optimizer
    public let group: ProcessGroup
    /// Bucket capacity in floats.
    public let bucketCapacity: Int
    private var layout: (parameters: [ObjectIdentifier], buckets: GradientBuckets, storages: [TensorStorage])?

    /// Wraps `inner`; checks that every rank has the same parameter shapes (a collective call:
    /// every rank must construct its optimiser in the same order).
    public init(_ inner: any Optimizer, group: ProcessGroup, bucketCapacity: Int = 1 << 22) throws {
        precondition(!(inner is DistributedOptimizer), "DistributedOptimizer: the optimiser is already distributed")
        self.inner = inner
        self.group = group
        self.bucketCapacity = bucketCapacity
        let shapes = inner.allParameters.map { "\($0.shape)" }.joined(separator: ";")
        do { try group.ensureSameConfiguration(shapes) } catch DistributedError.configurationMismatch(let ranks, _) {
            throw DistributedError.inconsistent("the optimised parameters differ in number or shape on rank(s) \(ranks) (\(inner.allParameters.count) parameters on rank \(group.rank)); build the same model on every rank")
        }
    }

    public var groups: [ParameterGroup] {
        get { inner.groups }
        set { inner.groups = newValue }
    }
    public var schedule: any LearningRateSchedule {
        get { inner.schedule }
        set { inner.schedule = newValue }
    }
    public var stepCount: Int { inner.stepCount }
    public func stateDict() -> [String: Tensor] { inner.stateDict() }
    public func load(stateDict: [String: Tensor]) throws { try inner.load(stateDict: stateDict) }

    public func step(_ gradients: Gradients) {
        do {
            inner.step(try averaged(gradients))
        } catch {
            group.abort("gradient all-reduce failed: \(error)")
        }
    }

    /// The mean over ranks of the gradients of this optimiser's parameters, as a store.
    public func averaged(_ gradients: Gradients) throws -> Gradients {
        let parameters = inner.allParameters
        let identifiers = parameters.map(ObjectIdentifier.init)
        if layout?.parameters != identifiers {
            let buckets = GradientBuckets(shapes: parameters.map(\.shape), capacity: bucketCapacity)
            layout = (identifiers, buckets, buckets.bucketSizes.map { TensorStorage(count: $0) })
        }
        let (_, buckets, storages) = layout!
        let means = try withExtendedLifetime(storages) {  // the buffers point into them
            let buffers = storages.map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) }
            buckets.pack(parameters.map { gradients[$0] }, into: buffers)
            for buffer in buffers { try group.allReduceSum(buffer) }
            return buckets.unpack(buffers, shapes: parameters.map(\.shape), scale: 1 / Float(group.size))
        }
        return Self.store(zip(parameters, means).compactMap { parameter, mean in mean.map { (parameter, $0) } })
    }

    /// A ``Gradients`` store holding exactly `gradients` for their parameters: one recorded
    /// operation whose inputs are the parameters' values and whose backward returns them.
    static func store(_ gradients: [(parameter: Parameter, gradient: Tensor)]) -> Gradients {
        let trainable = gradients.filter { $0.parameter.isTrainable }
        let values = trainable.map { $0.parameter.value }, results = trainable.map { Optional($0.gradient) }
        let root = withGradients { Tensor.recordOperation("allReduceMean", value: Tensor(Float(0)), inputs: values) { _ in results } }
        return root.backward(retaining: .leaves)
    }
}
