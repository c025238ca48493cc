import Tensor
import Datasets

extension InMemoryDataset {
    /// Every sample of `dataset` decoded once, in parallel, and held in memory — for small sets
    /// that many epochs revisit (synthetic faces, Yale B).
    public init(loading dataset: any FaceDataset) throws {
        var slots = [Result<Sample, any Error>?](repeating: nil, count: dataset.count)
        slots.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            parallelFor(dataset.count) { range in
                for i in range { base[i] = Result { try dataset.sample(at: i) } }
            }
        }
        self.init(samples: try slots.map { try $0!.get() }, identityCount: dataset.identityCount)
    }
}
