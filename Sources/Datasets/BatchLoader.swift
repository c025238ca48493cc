import Foundation
import Tensor

/// A width and height in pixels.
public struct ImageSize: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        precondition(width >= 1 && height >= 1, "ImageSize: \(width)x\(height) must be positive")
        self.width = width
        self.height = height
    }

    /// A square size.
    public init(_ side: Int) { self.init(width: side, height: side) }
}

/// How a ``BatchLoader`` turns samples into batches.
public struct LoaderOptions: Sendable, Equatable {
    /// Samples per batch.
    public var batchSize: Int
    /// Visit samples in a seeded random order each epoch (otherwise in index order).
    public var shuffle: Bool
    /// Mirror each sample left–right with probability ½ — the HR image, so its LR view is
    /// mirrored identically.
    public var flip: Bool
    /// Drop the last, smaller batch of an epoch.
    public var dropLast: Bool
    /// Batches prepared ahead on background threads (0: prepare each batch when asked).
    public var prefetch: Int
    /// Background threads preparing batches (with `prefetch > 0`).
    public var workers: Int
    /// How the LR view is made from the HR image.
    public var degradation: Degradation
    /// Resize HR images to this size first (bicubic, antialiased) when they differ.
    public var hrSize: ImageSize?
    /// Convert images to this many channels (1 or 3) first.
    public var channels: Int?
    /// Pixel → network input mapping for both tensors.
    public var normalization: Normalization

    public init(batchSize: Int, shuffle: Bool = true, flip: Bool = false, dropLast: Bool = true, prefetch: Int = 4,
                workers: Int = 1, degradation: Degradation = .identity, hrSize: ImageSize? = nil, channels: Int? = nil,
                normalization: Normalization = .insightface) {
        precondition(batchSize >= 1, "LoaderOptions: batchSize must be at least 1, got \(batchSize)")
        precondition(prefetch >= 0 && workers >= 1, "LoaderOptions: prefetch must be ≥ 0 and workers ≥ 1")
        precondition(channels.map { $0 == 1 || $0 == 3 } ?? true, "LoaderOptions: channels must be 1 or 3")
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.flip = flip
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.workers = workers
        self.degradation = degradation
        self.hrSize = hrSize
        self.channels = channels
        self.normalization = normalization
    }
}

/// One training batch: the HR images for the teacher, their LR views for the student, labels.
public struct Batch {
    /// `[B, C, H, W]` normalised HR images.
    public let hr: Tensor
    /// `[B, C, h, w]` normalised LR views (same order).
    public let lr: Tensor
    /// Identity of each sample.
    public let labels: [Int]
    /// Dataset index of each sample.
    public let indices: [Int]
    /// Whether each sample's HR image (and so its LR view) is mirrored (``LoaderOptions/flip``).
    public let flipped: [Bool]
}

/// Shuffled, seeded batches of (HR, LR, label) with background prefetch.
///
/// Everything random is a pure function of `(seed, epoch, sample index)`: the epoch's order
/// comes from a generator seeded by `(seed, epoch)`, and each sample's flip and degradation
/// from one seeded by `(seed, epoch, dataset index)`. So a batch does not depend on which
/// thread prepared it or when, and two runs with one seed give identical batches.
///
/// ```swift
/// let loader = BatchLoader(dataset: SyntheticFaces(identities: 500, imagesPerIdentity: 20),
///                          options: LoaderOptions(batchSize: 64, flip: true,
///                                                 degradation: try Degradation(parsing: "size=8..32,up=112")),
///                          seed: 1)
/// let batches = loader.epoch(0)
/// while let batch = try batches.next() { train(batch.hr, batch.lr, batch.labels) }
/// ```
public final class BatchLoader: Sendable {
    public let dataset: any FaceDataset
    public let options: LoaderOptions
    public let seed: UInt64
    /// The last epoch's order and how many orders were computed: one costs an allocation and a
    /// shuffle of every index (5.8 M for MS1M), which random access to the batches of an epoch
    /// (a resumed run, a data-parallel shard) would otherwise repeat at every step.
    private let lastOrder = Locked<(epoch: Int, order: [Int], computations: Int)?>(nil)

    public init(dataset: any FaceDataset, options: LoaderOptions, seed: UInt64) {
        self.dataset = dataset
        self.options = options
        self.seed = seed
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        options.dropLast ? dataset.count / options.batchSize : (dataset.count + options.batchSize - 1) / options.batchSize
    }

    /// The dataset indices in the order epoch `epoch` visits them (Fisher–Yates with the
    /// epoch's generator, or `0..<count` without shuffling); the last epoch's is kept.
    public func order(epoch: Int) -> [Int] {
        lastOrder.withLock { cached in
            if let cached, cached.epoch == epoch { return cached.order }
            let order = computeOrder(epoch: epoch)
            cached = (epoch, order, (cached?.computations ?? 0) + 1)
            return order
        }
    }

    /// How many epoch orders ``order(epoch:)`` computed (for tests).
    package var orderComputations: Int { lastOrder.withLock { $0?.computations ?? 0 } }

    private func computeOrder(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        guard options.shuffle, order.count > 1 else { return order }
        var rng = RandomGenerator(seed: mixSeed(seed, 0x0DE7, UInt64(truncatingIfNeeded: epoch)))
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return order
    }

    /// Batch `index` of epoch `epoch`, prepared on the calling thread; an index outside
    /// `0..<batchesPerEpoch` is a ``DatasetError`` (a data set too small for one batch has none).
    public func batch(epoch: Int, index: Int) throws -> Batch {
        try checkBatchIndex(index)
        return try prepare(epoch: epoch, index: index, order: order(epoch: epoch)).batch()
    }

    /// The batches of epoch `epoch` in order, prepared ahead on ``LoaderOptions/workers``
    /// background threads (at most ``LoaderOptions/prefetch`` batches ahead). Dropping the
    /// iterator stops the threads.
    public func epoch(_ epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch)
    }

    /// The HR image and LR view of dataset sample `index` in epoch `epoch`.
    public func views(of index: Int, epoch: Int) throws -> (hr: Image, lr: Image, label: Int) {
        let views = try sampleViews(of: index, epoch: epoch)
        return (views.hr, views.lr, views.label)
    }

    /// ``views(of:epoch:)`` and whether the HR image was mirrored.
    private func sampleViews(of index: Int, epoch: Int) throws -> SampleViews {
        let sample = try dataset.sample(at: index)
        var hr = sample.image
        if let channels = options.channels { hr = hr.converted(toChannels: channels) }
        if let size = options.hrSize, size.width != hr.width || size.height != hr.height {
            hr = hr.resized(width: size.width, height: size.height)
        }
        var rng = RandomGenerator(seed: mixSeed(seed, 0x5A3B, UInt64(truncatingIfNeeded: epoch), UInt64(index)))
        let flipped = options.flip && rng.nextUniform() < 0.5
        if flipped { hr = hr.horizontallyFlipped() }
        return (hr, options.degradation.apply(to: hr, using: &rng), sample.label, flipped)
    }

    private typealias SampleViews = (hr: Image, lr: Image, label: Int, flipped: Bool)

    /// How many samples batch `index` of an epoch holds (without `dropLast` the last may hold fewer).
    public func size(ofBatch index: Int) -> Int {
        precondition(index >= 0 && index < batchesPerEpoch, "BatchLoader: batch index \(index) outside 0..<\(batchesPerEpoch)")
        return min(dataset.count, (index + 1) * options.batchSize) - index * options.batchSize
    }

    /// Rows `rows` of batch `index` of epoch `epoch` (a data-parallel process's shard): those
    /// samples of the whole batch, with the same flips and degradations, prepared on the calling
    /// thread's ``parallelFor`` threads.
    public func batch(epoch: Int, index: Int, rows: Range<Int>) throws -> Batch {
        try checkBatchIndex(index)
        precondition(rows.lowerBound >= 0 && rows.upperBound <= size(ofBatch: index), "BatchLoader.batch: rows \(rows) outside batch \(index)")
        let start = index * options.batchSize
        let indices = Array(order(epoch: epoch)[(start + rows.lowerBound)..<(start + rows.upperBound)])
        var prepared = [Result<SampleViews, any Error>?](repeating: nil, count: indices.count)
        prepared.withUnsafeMutableBufferPointer { slots in
            parallelFor(indices.count) { range in
                for k in range { slots[k] = Result { try sampleViews(of: indices[k], epoch: epoch) } }
            }
        }
        return try stack(prepared.map { try $0!.get() }, indices, epoch: epoch, index: index).batch()
    }

    private func checkBatchIndex(_ index: Int) throws {
        guard index >= 0 && index < batchesPerEpoch else {
            throw DatasetError("batch loader", "batch index \(index) outside 0..<\(batchesPerEpoch) (\(dataset.count) samples in batches of \(options.batchSize)\(options.dropLast && dataset.count % options.batchSize != 0 ? ", the partial last one dropped" : ""))")
        }
    }

    func prepare(epoch: Int, index: Int, order: [Int]) throws -> PreparedBatch {
        let start = index * options.batchSize
        let indices = Array(order[start..<(start + size(ofBatch: index))])
        return try stack(try indices.map { try sampleViews(of: $0, epoch: epoch) }, indices, epoch: epoch, index: index)
    }

    /// The views of samples `indices` of batch `index` as a batch; views of different sizes or
    /// channel counts are an error naming two samples.
    private func stack(_ views: [SampleViews], _ indices: [Int], epoch: Int, index: Int) throws -> PreparedBatch {
        for (what, images) in [("HR image", views.map(\.hr)), ("LR view", views.map(\.lr))] {
            let first = images[0]
            if let k = images.firstIndex(where: { $0.width != first.width || $0.height != first.height || $0.channels != first.channels }) {
                throw DatasetError("batch \(index) of epoch \(epoch)", "sample \(indices[k])'s \(what) (\(images[k].width)x\(images[k].height)x\(images[k].channels)) differs in size or channels from sample \(indices[0])'s (\(first.width)x\(first.height)x\(first.channels)); set hrSize/channels, or up= in the degradation")
            }
        }
        return PreparedBatch(hr: Image.batchStorage(views.map(\.hr), options.normalization),
                             lr: Image.batchStorage(views.map(\.lr), options.normalization),
                             labels: views.map(\.label), indices: indices, flipped: views.map(\.flipped))
    }
}

/// A batch built off the training thread: storages only (tensors are made by the consumer).
struct PreparedBatch: Sendable {
    let hr: (shape: [Int], storage: TensorStorage)
    let lr: (shape: [Int], storage: TensorStorage)
    let labels: [Int]
    let indices: [Int]
    let flipped: [Bool]

    func batch() -> Batch {
        Batch(hr: Tensor(shape: hr.shape, storage: hr.storage), lr: Tensor(shape: lr.shape, storage: lr.storage),
              labels: labels, indices: indices, flipped: flipped)
    }
}

/// The batches of one epoch, in order, prepared by background threads.
public final class EpochBatches {
    private let loader: BatchLoader
    private let epoch: Int
    private let order: [Int]
    private let queue: PrefetchQueue?
    private var nextIndex = 0

    init(loader: BatchLoader, epoch: Int) {
        self.loader = loader
        self.epoch = epoch
        order = loader.order(epoch: epoch)
        let total = loader.batchesPerEpoch
        guard loader.options.prefetch > 0, total > 0 else {
            queue = nil
            return
        }
        let queue = PrefetchQueue(total: total, depth: loader.options.prefetch)
        self.queue = queue
        let order = order, epoch = epoch
        for _ in 0..<min(loader.options.workers, total) {
            let thread = Thread {
                while let index = queue.claim() {
                    queue.deliver(index, Result { try loader.prepare(epoch: epoch, index: index, order: order) })
                }
            }
            thread.name = "crossres.loader"
            thread.start()
        }
    }

    deinit { queue?.cancel() }

    /// Batches in this epoch.
    public var count: Int { loader.batchesPerEpoch }

    /// The next batch, or `nil` after the last; rethrows a sample's decoding error.
    public func next() throws -> Batch? {
        guard nextIndex < loader.batchesPerEpoch else { return nil }
        defer { nextIndex += 1 }
        guard let queue else { return try loader.prepare(epoch: epoch, index: nextIndex, order: order).batch() }
        return try queue.take(nextIndex).get().batch()
    }
}

/// Batches prepared ahead: workers claim indices in order, at most `depth` ahead of the
/// consumer; the consumer takes them in order.
private final class PrefetchQueue: @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    private let condition = NSCondition()
    private let total: Int, depth: Int
    private var claimed = 0, taken = 0
    private var ready: [Int: Result<PreparedBatch, Error>] = [:]
    private var cancelled = false

    init(total: Int, depth: Int) {
        self.total = total
        self.depth = depth
    }

    /// The next batch index to prepare, waiting while the queue is full; `nil` when done.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && claimed < total && claimed - taken >= depth { condition.wait() }
        guard !cancelled, claimed < total else { return nil }
        claimed += 1
        return claimed - 1
    }

    func deliver(_ index: Int, _ result: Result<PreparedBatch, Error>) {
        condition.lock()
        ready[index] = result
        condition.broadcast()
        condition.unlock()
    }

    func take(_ index: Int) -> Result<PreparedBatch, Error> {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil { condition.wait() }
        taken = index + 1
        condition.broadcast()
        return ready.removeValue(forKey: index)!
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
