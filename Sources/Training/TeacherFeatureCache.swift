import Foundation
import Tensor
import Layers

/// The teacher's features precomputed once for every sample — the seed's "extra data input
/// receiving the HR network's 512-d features". Valid only when the HR view is deterministic
/// (no random augmentation of the teacher's input): a ``DistillationTask`` with a cache refuses a
/// batch with mirrored rows (``TrainingBatch/flipped``, from ``LoaderOptions/flip``).
public final class TeacherFeatureCache {
    /// `[N, D]` embeddings, row `i` for dataset index `i`.
    public let embeddings: Tensor
    /// Cached feature maps `[N, C, H, W]` by name.
    public let maps: [String: Tensor]

    public init(embeddings: Tensor, maps: [String: Tensor] = [:]) {
        precondition(embeddings.rank == 2, "TeacherFeatureCache: embeddings must be [N, D], got \(embeddings.shape)")
        precondition(maps.values.allSatisfy { $0.shape.first == embeddings.shape[0] },
                     "TeacherFeatureCache: maps \(maps.mapValues(\.shape)) do not have \(embeddings.shape[0]) rows")
        self.embeddings = embeddings.detached()
        self.maps = maps.mapValues { $0.detached() }
    }

    /// The most memory a cache built from a teacher may take unless told otherwise: half of the
    /// memory this process may use (``MachineResources/memory``: the physical memory, or the
    /// cgroup limit of a container or Slurm job when smaller).
    public static var defaultMemoryLimit: Int { MemoryLimit.shared(machine: nil, by: nil).bytes }

    /// The most memory one process's cache may take, in bytes, and what set it (the error that
    /// refuses a larger cache states both).
    public struct MemoryLimit: Sendable, Equatable {
        public var bytes: Int
        /// e.g. "half of this machine's 25.3 GB of memory".
        public var origin: String

        public init(bytes: Int, origin: String) {
            self.bytes = bytes
            self.origin = origin
        }

        /// `bytes`, set by the caller.
        public static func bytes(_ bytes: Int) -> MemoryLimit { MemoryLimit(bytes: bytes, origin: "memoryLimit") }

        /// A machine's budget — `machine` bytes (`teacher-cache-limit`), or `nil`:
        /// ``TeacherFeatureCache/defaultMemoryLimit`` — shared by the run's `processes` on it,
        /// each holding a whole cache.
        public static func shared(machine: Int?, by processes: MachineResources.LocalProcesses?) -> MemoryLimit {
            var limit: MemoryLimit
            if let machine {
                limit = MemoryLimit(bytes: machine, origin: "teacher-cache-limit \(ByteSize.describe(machine)) per machine")
            } else {
                let memory = MachineResources.memory
                limit = MemoryLimit(bytes: memory.bytes / 2, origin: memory.cgroupLimit == nil
                                    ? "half of this machine's \(ByteSize.describe(memory.bytes)) of physical memory"
                                    : "half of the \(ByteSize.describe(memory.bytes)) memory limit of this process's cgroup (its container or Slurm job)")
            }
            if let processes, processes.count > 1 {
                limit = MemoryLimit(bytes: limit.bytes / processes.count,
                                    origin: "\(limit.origin), shared by the \(processes.count) processes on this machine, \(processes.source)")
            }
            return limit
        }
    }

    /// Runs `teacher` (eval mode, no tape) over `count` HR samples in batches; `images(range)`
    /// returns the HR batch of those dataset indices. `keepingMaps` names the feature maps to cache.
    ///
    /// Memory: after the first batch the cache's size is known — `count` rows of the embedding
    /// and of every kept map, 4 bytes a value — and above `memoryLimit` (`nil`:
    /// ``defaultMemoryLimit``) the pass stops there with an error stating both, instead of being
    /// killed for lack of memory after the whole pass (`[N, C, H, W]` maps grow fast: an
    /// IResNet-50's stage-2 maps of 494 k images take about 199 GB). The rows are written into
    /// their final tensors batch by batch, so the peak is the cache plus one batch.
    public convenience init(teacher: any FeatureExtractor, count: Int, batchSize: Int = 64, keepingMaps: [String] = [],
                            memoryLimit: MemoryLimit? = nil, images: (Range<Int>) throws -> Tensor) throws {
        precondition(count > 0 && batchSize > 0, "TeacherFeatureCache: count \(count) and batchSize \(batchSize) must be positive")
        teacher.eval()
        var outputs: [(name: String?, shape: [Int], storage: TensorStorage)] = []
        for start in stride(from: 0, to: count, by: batchSize) {
            let range = start..<min(start + batchSize, count)
            let features = try withoutGradients { teacher.features(try images(range)) }
            let parts: [(name: String?, tensor: Tensor)] = try [(nil, features.embedding)] + keepingMaps.map { name in
                guard let map = features.maps[name] else {
                    throw TrainingError.invalidConfiguration("the teacher has no feature map '\(name)' to cache (it has \(features.maps.keys.sorted().joined(separator: ", ")))")
                }
                return (name, map)
            }
            if outputs.isEmpty {
                let rowShapes = parts.map { Array($0.tensor.shape.dropFirst()) }
                try Self.checkMemory(rows: count, rowShapes: rowShapes, names: parts.map(\.name), limit: memoryLimit)
                outputs = zip(parts, rowShapes).map { part, rowShape in
                    (part.name, [count] + rowShape, TensorStorage(count: count * rowShape.reduce(1, *)))
                }
            }
            for (output, part) in zip(outputs, parts) {
                precondition(part.tensor.shape == [range.count] + output.shape.dropFirst(),
                             "TeacherFeatureCache: rows \(range) of \(output.name.map { "map '\($0)'" } ?? "the embedding") have shape \(part.tensor.shape), not \([range.count] + output.shape.dropFirst())")
                let rowCount = output.shape.dropFirst().reduce(1, *)
                part.tensor.withUnsafeBufferPointer { (output.storage.base + start * rowCount).update(from: $0.baseAddress!, count: $0.count) }
            }
        }
        let tensors = outputs.map { (name: $0.name, tensor: Tensor(shape: $0.shape, storage: $0.storage)) }
        self.init(embeddings: tensors[0].tensor,
                  maps: Dictionary(uniqueKeysWithValues: tensors.dropFirst().map { ($0.name!, $0.tensor) }))
    }

    /// The bytes a cache of `rows` rows takes whose row of each cached tensor has shape
    /// `rowShapes[i]` (4 bytes a value); `nil` past `Int.max`.
    public static func bytes(rows: Int, rowShapes: [[Int]]) -> Int? {
        var total = 0
        for shape in rowShapes {
            var bytes = rows.multipliedReportingOverflow(by: 4)
            for d in shape where !bytes.overflow { bytes = bytes.partialValue.multipliedReportingOverflow(by: d) }
            guard !bytes.overflow else { return nil }
            let sum = total.addingReportingOverflow(bytes.partialValue)
            guard !sum.overflow else { return nil }
            total = sum.partialValue
        }
        return total
    }

    /// Throws when the cache would take more than `limit` (`nil`: ``defaultMemoryLimit``).
    static func checkMemory(rows: Int, rowShapes: [[Int]], names: [String?], limit: MemoryLimit?) throws {
        let limit = limit ?? .shared(machine: nil, by: nil)
        let bytes = Self.bytes(rows: rows, rowShapes: rowShapes)
        guard let bytes, bytes <= limit.bytes else {
            let floats = zip(names, rowShapes).map { name, shape in
                "\(name.map { "map '\($0)'" } ?? "embedding") \(shape.map(String.init).joined(separator: "×"))"
            }.joined(separator: " + ")
            let size = bytes.map(ByteSize.describe) ?? "more than \(ByteSize.describe(Int.max))"
            throw TrainingError.invalidConfiguration("caching the teacher's features of \(rows) images needs \(size) (\(rows) rows of \(floats) floats, 4 bytes each), above the limit of \(ByteSize.describe(limit.bytes)) (\(limit.origin)); turn cache-teacher off (the teacher then runs on every batch), cache fewer or smaller maps, run fewer processes per machine, or raise the limit if the memory is there (the distill setting teacher-cache-limit, per machine; in the library memoryLimit or DistillationTraining.teacherCacheMemoryLimit, per process)")
        }
    }

    /// The cached features of dataset `indices`, as the teacher would have produced them. An
    /// index beyond the samples the cache was built over stops, naming the cache (it was built
    /// over another data set or split than the batches come from).
    public func features(_ indices: [Int]) -> Features {
        let count = embeddings.shape[0]
        if let beyond = indices.first(where: { $0 < 0 || $0 >= count }) {
            preconditionFailure("TeacherFeatureCache: sample index \(beyond) outside the \(count) samples it was built over; build the cache over the data set the batches come from")
        }
        return Features(embedding: embeddings.indexSelect(axis: 0, indices), maps: maps.mapValues { $0.indexSelect(axis: 0, indices) })
    }
}
