import Layers
import Tensor

/// Synchronised BatchNorm over a process group: every BatchNorm of a model normalises in
/// training with the statistics of the global batch (Σ over the ranks' shards) instead of its
/// own shard's, so N processes with global batch B compute what one process with batch B does
/// (up to summation order). Costs two small all-reduces per BatchNorm forward and two per
/// backward (the per-channel sums and their gradients), plus one for the value count.
extension ProcessGroup: CrossProcessSum {
    /// `values` summed over the ranks (an all-reduce). A failing MPI call cannot be thrown from
    /// inside a forward or backward pass: it ends every rank through ``abort(_:code:)``.
    public func sum(_ values: [Float]) -> [Float] {
        var result = values
        do {
            try result.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        } catch {
            abort("synchronised BatchNorm: all-reduce failed: \(error)")
        }
        return result
    }

    /// Sets every BatchNorm of `model` (itself included) to normalise with the global batch's
    /// statistics over this group; returns how many it set. Every rank must do the same, and
    /// run the same BatchNorms in the same order (the same model and task on every rank).
    @discardableResult
    public func synchroniseBatchNorm(in model: any Module) -> Int {
        let layers = model.namedModules().compactMap { $0.module as? BatchNorm }
        for layer in layers { layer.synchronisation = self }
        return layers.count
    }
}
