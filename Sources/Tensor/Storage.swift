#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owned, 64-byte aligned float32 memory behind one or more tensors.
///
/// A storage is written once, by the operation that creates it, and is read-only afterwards:
/// tensors are immutable values, so reshaping shares a storage and every other operation
/// allocates a new one. That rule is what lets the autograd tape hold on to inputs safely and
/// makes `@unchecked Sendable` sound for crossing threads.
///
/// Large storages come from and return to ``BufferPool``, so a training loop that allocates the
/// same shapes every step reuses memory instead of faulting fresh pages in.
public final class TensorStorage: @unchecked Sendable {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    /// Bytes allocated (a pool size class for pooled storages).
    private let byteCount: Int

    /// Uninitialised storage of `count` floats.
    public init(count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        let bytes = BufferPool.byteCount(forFloats: count)
        byteCount = bytes
        let raw = BufferPool.shared.take(byteCount: bytes) ?? BufferPool.allocate(byteCount: bytes)
        base = raw.bindMemory(to: Float.self, capacity: bytes / 4)
    }

    deinit {
        let raw = UnsafeMutableRawPointer(base)
        if !BufferPool.shared.give(raw, byteCount: byteCount) { raw.deallocate() }
    }

    /// The elements as a buffer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }
}

/// Freed large buffers kept for reuse, by exact size class.
///
/// The allocator returns large blocks (feature maps of a training step: hundreds of KiB to
/// hundreds of MiB) to the system when they are freed, and the next step's allocations of the
/// same sizes then fault every page in again — about a fifth of a MobileFaceNet train step.
/// The pool keeps blocks of at least ``minimumBytes``, rounded up to whole pages, up to
/// ``maximumRetainedBytes`` in total, and hands them out again for the same size class.
final class BufferPool: Sendable {
    static let shared = BufferPool()
    /// Smaller blocks are left to `malloc`, whose free lists recycle them without page faults.
    static let minimumBytes = 128 << 10
    /// Size classes are multiples of this many bytes.
    static let granule = 4096
    /// Bytes the pool may hold while they are not in use: `CROSSRES_BUFFER_POOL_MIB` MiB
    /// (0 turns pooling off), by default 2 GiB.
    static let maximumRetainedBytes: Int = {
        guard let text = getenv("CROSSRES_BUFFER_POOL_MIB").map({ String(cString: $0) }), let mib = Int(text), mib >= 0
        else { return 2 << 30 }
        return mib << 20
    }()

    private struct State {
        /// Addresses of free blocks, by byte count.
        var free: [Int: [UInt]] = [:]
        var retainedBytes = 0
    }
    private let state = Locked(State())

    /// Blocks of at least this many bytes are whole, aligned huge pages (2 MiB on x86-64 Linux).
    static let hugePage = 2 << 20

    /// A new block of `byteCount` bytes (a value from ``byteCount(forFloats:)``), 64-byte aligned.
    ///
    /// Blocks of whole huge pages are aligned to one and, on Linux, advised to be backed by
    /// transparent huge pages (`madvise(MADV_HUGEPAGE)`; the kernel's default is often "madvise
    /// only"): a training step streams through feature maps of several MiB, and with 4 KiB
    /// pages each of them misses the TLB page by page. W5b and W5c ran 2–3 % faster.
    /// Where the kernel declines, the block is simply backed by small pages.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard byteCount >= hugePage else { return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64) }
        let block = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: hugePage)
        #if os(Linux)
        _ = madvise(block, byteCount, MADV_HUGEPAGE)
        #endif
        return block
    }

    /// Bytes to allocate for `count` floats: at least one float; for pooled sizes whole granules,
    /// or whole huge pages from one huge page on.
    static func byteCount(forFloats count: Int) -> Int {
        let bytes = max(count, 1) &* 4
        if bytes < minimumBytes { return bytes }
        let unit = bytes >= hugePage ? hugePage : granule
        return (bytes &+ unit &- 1) / unit &* unit
    }

    /// A free block of exactly `byteCount` bytes, if the pool holds one.
    func take(byteCount: Int) -> UnsafeMutableRawPointer? {
        guard byteCount >= Self.minimumBytes else { return nil }
        let address = state.withLock { s -> UInt? in
            guard let block = s.free[byteCount]?.popLast() else { return nil }
            s.retainedBytes &-= byteCount
            return block
        }
        return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
    }

    /// Keeps `block` for reuse; `false` when it is too small or the pool is full (free it then).
    func give(_ block: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
        guard byteCount >= Self.minimumBytes else { return false }
        let address = UInt(bitPattern: block)
        return state.withLock { s in
            guard s.retainedBytes &+ byteCount <= Self.maximumRetainedBytes else { return false }
            s.free[byteCount, default: []].append(address)
            s.retainedBytes &+= byteCount
            return true
        }
    }
}
