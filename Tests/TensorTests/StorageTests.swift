import Testing
@testable import Tensor

/// `BufferPool`'s size classes and the alignment of the blocks behind storages.
struct StorageTests {
    @Test func smallBlocksKeepTheirExactSize() {
        #expect(BufferPool.byteCount(forFloats: 0) == 4)
        #expect(BufferPool.byteCount(forFloats: 10) == 40)
        #expect(BufferPool.byteCount(forFloats: BufferPool.minimumBytes / 4 - 1) == BufferPool.minimumBytes - 4)
    }

    @Test func pooledBlocksAreWholeGranulesThenWholeHugePages() {
        #expect(BufferPool.byteCount(forFloats: BufferPool.minimumBytes / 4) == BufferPool.minimumBytes)
        #expect(BufferPool.byteCount(forFloats: BufferPool.minimumBytes / 4 + 1) == BufferPool.minimumBytes + 4096)
        #expect(BufferPool.byteCount(forFloats: BufferPool.hugePage / 4 - 1) == BufferPool.hugePage)
        #expect(BufferPool.byteCount(forFloats: BufferPool.hugePage / 4 + 1) == 2 * BufferPool.hugePage)
        #expect(BufferPool.byteCount(forFloats: 3 * BufferPool.hugePage / 4) == 3 * BufferPool.hugePage)
    }

    @Test(arguments: [1, 1000, 40_000, 600_000, 1_500_000])
    func storagesAreAlignedAndHoldTheirElements(count: Int) {
        let storage = TensorStorage(count: count)
        let address = UInt(bitPattern: storage.base)
        #expect(address % 64 == 0)
        if BufferPool.byteCount(forFloats: count) >= BufferPool.hugePage {
            #expect(address % UInt(BufferPool.hugePage) == 0)
        }
        storage.buffer.initialize(repeating: 1.5)
        #expect(storage.buffer[count - 1] == 1.5)
        #expect(storage.count == count)
    }
}
