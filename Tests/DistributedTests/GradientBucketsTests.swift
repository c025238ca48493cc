import Testing
import Tensor
import Distributed

struct GradientBucketsTests {
    @Test func parametersAreLaidOutInOrderWithinTheCapacity() {
        let shapes = [[3, 2], [4], [10], [2, 2], [1]]
        let layout = GradientBuckets(shapes: shapes, capacity: 10)
        // 6 + 4 fill the first bucket; 10 alone; 4 + 1 in the last.
        #expect(layout.slots.map(\.bucket) == [0, 0, 1, 2, 2])
        #expect(layout.slots.map(\.offset) == [0, 6, 0, 0, 4])
        #expect(layout.slots.map(\.count) == [6, 4, 10, 4, 1])
        #expect(layout.slots.map(\.flagOffset) == [10, 11, 10, 5, 6])
        #expect(layout.bucketSizes == [12, 11, 7])
        // A gradient larger than the capacity gets a bucket of its own.
        #expect(GradientBuckets(shapes: [[2], [50], [3]], capacity: 8).slots.map(\.bucket) == [0, 1, 2])
        #expect(GradientBuckets(shapes: shapes).bucketSizes == [25 + 5])
    }

    /// Two ranks' packed buffers summed (what MPI_Allreduce does) and unpacked with scale 1/2
    /// give the mean gradient; a parameter only one rank has a gradient for gets half of it,
    /// one that no rank has stays absent.
    @Test func packSumUnpackIsTheMeanOverRanks() {
        let shapes = [[2, 2], [3], [1]]
        let layout = GradientBuckets(shapes: shapes, capacity: 5)
        let rank0: [Tensor?] = [Tensor([[1, 2], [3, 4]]), Tensor([1, 1, 1]), nil]
        let rank1: [Tensor?] = [Tensor([[3, 2], [1, 0]]), nil, nil]
        let buffers = [rank0, rank1].map { gradients in
            let storages = layout.bucketSizes.map { TensorStorage(count: $0) }
            withExtendedLifetime(storages) {
                layout.pack(gradients, into: storages.map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) })
            }
            return storages
        }
        for (a, b) in zip(buffers[0], buffers[1]) { for i in 0..<a.count { a.base[i] += b.base[i] } }
        let means = withExtendedLifetime(buffers) {  // the buffer pointers point into these storages
            layout.unpack(buffers[0].map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) }, shapes: shapes, scale: 0.5)
        }
        #expect(means[0]?.shape == [2, 2])
        #expect(means[0]?.scalars == [2, 2, 2, 2])
        #expect(means[1]?.scalars == [0.5, 0.5, 0.5])
        #expect(means[2] == nil)
    }
}
