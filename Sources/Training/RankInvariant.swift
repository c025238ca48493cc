import Datasets
import Layers

/// A value that must be the same on every process of a data-parallel run because each process
/// computes it itself — from the data it opens or the teacher it loads — while only rank 0's
/// trained state is broadcast: a count, or a checksum. A stale teacher file or a data folder
/// with a few more images on one machine would otherwise give overlapping shards or a mix of
/// teachers without any error.
public struct RankInvariant: Sendable, Equatable {
    /// What the value is, for the error (`images`, `labels checksum`).
    public var name: String
    public var value: UInt64
    /// Shown as `crc64-xz:` and 16 hexadecimal digits rather than as a count.
    public var isChecksum: Bool

    public init(name: String, value: UInt64, isChecksum: Bool) {
        self.name = name
        self.value = value
        self.isChecksum = isChecksum
    }

    /// A count.
    public static func count(_ name: String, _ value: Int) -> RankInvariant {
        RankInvariant(name: name, value: UInt64(bitPattern: Int64(value)), isChecksum: false)
    }

    /// A checksum.
    public static func checksum(_ name: String, _ value: UInt64) -> RankInvariant {
        RankInvariant(name: name, value: value, isChecksum: true)
    }

    /// The value as an error shows it.
    public var text: String {
        isChecksum ? CheckpointChecksum.text(value) : String(Int64(bitPattern: value))
    }

    /// A data set's sample count, identity count and a CRC-64 of its labels in index order (its
    /// samples' order and identities; the images themselves are not read).
    public static func data(_ dataset: any FaceDataset) -> [RankInvariant] {
        var crc = CRC64(), chunk = [UInt64](), start = 0
        chunk.reserveCapacity(4096)
        while start < dataset.count {
            chunk.removeAll(keepingCapacity: true)
            for i in start..<min(start + 4096, dataset.count) { chunk.append(UInt64(bitPattern: Int64(dataset.label(at: i))).littleEndian) }
            chunk.withUnsafeBytes { crc.update($0) }
            start += 4096
        }
        return [count("images", dataset.count), count("identities", dataset.identityCount), checksum("labels checksum", crc.value)]
    }

    /// A CRC-64 of `module`'s state dict — every parameter's and buffer's name, shape and values,
    /// by the checkpoint checksum's byte stream (``CheckpointChecksum``).
    public static func weights(_ module: any Module, name: String) -> RankInvariant {
        checksum(name, CheckpointChecksum.value(tensors: module.stateDict(), metadata: [:]))
    }

    /// What differs between the processes' values (`perRank[r]`: rank r's invariants, the
    /// same names in the same order on every rank), one `name (rank 0: …, rank r: …)` per
    /// invariant that differs, naming each rank whose value differs from rank 0's; `nil` when
    /// every value agrees.
    public static func differences(_ perRank: [[RankInvariant]]) -> String? {
        guard let first = perRank.first else { return nil }
        let parts = first.indices.compactMap { i -> String? in
            let differing = perRank.indices.filter { perRank[$0][i].value != first[i].value }
            guard !differing.isEmpty else { return nil }
            return "\(first[i].name) (" + ([0] + differing).map { "rank \($0): \(perRank[$0][i].text)" }.joined(separator: ", ") + ")"
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}
