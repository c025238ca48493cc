import Tensor
import Layers

/// MMD domain loss on embeddings: `MMD²(source, target)` between a source-domain (HR) batch
/// and the student's target-domain (LR) batch (Long et al., "Learning Transferable Features
/// with Deep Adaptation Networks", ICML 2015; the seed's item 2).
///
/// Source = the context's ``TransferContext/source`` embeddings, else the teacher's (detached);
/// target = the student's embeddings. The batches need not be paired nor of equal size. Both
/// are L2-normalised first by default (face embeddings are compared by cosine). Default kernel:
/// multi-kernel Gaussian with the mean-distance bandwidth rule of
/// ``maximumMeanDiscrepancy(_:_:kernel:includeTargetTerm:)``; default weight 1. Zero when the
/// two batches are the same set.
public final class MMDTransfer: TransferLoss {
    public static let defaultWeight: Float = 1

    public let name = "mmd"
    public let kernel: MMDKernel
    public let normalizesEmbeddings: Bool

    /// A fixed Gaussian σ² in `kernel` must be finite and positive.
    public init(kernel: MMDKernel = .multiGaussian(), normalizesEmbeddings: Bool = true) {
        kernel.checkParameters("mmd")
        self.kernel = kernel
        self.normalizesEmbeddings = normalizesEmbeddings
    }

    /// `MMD²` between `[n, D]` source and `[m, D]` target embeddings.
    public func discrepancy(source: Tensor, target: Tensor) -> Tensor {
        trapping { try checkDomainEmbeddings(source: source.shape, target: target.shape, loss: name) }
        let s = normalizesEmbeddings ? source.l2Normalized(axis: 1) : source
        let t = normalizesEmbeddings ? target.l2Normalized(axis: 1) : target
        return maximumMeanDiscrepancy(s, t, kernel: kernel)
    }

    public func callAsFunction(_ context: TransferContext) -> Tensor {
        discrepancy(source: context.sourceEmbedding(for: name), target: context.student.embedding)
    }

    public func check(_ context: TransferContext) throws {
        try checkDomainEmbeddings(source: context.checkedSourceEmbedding(for: name).shape, target: context.student.embedding.shape, loss: name)
    }
}
