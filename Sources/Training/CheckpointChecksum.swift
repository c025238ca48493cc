import Tensor

/// CRC-64/XZ (the check of `.xz` files, ECMA-182 polynomial): reflected polynomial
/// `0xC96C5795D7870F42`, initial value and final XOR all ones, so `"123456789"` hashes to
/// `0x995DC9BBDF1939FA`. A CRC detects every burst of up to 64 flipped bits and every odd
/// number of flipped bits; other corruptions slip through with probability 2⁻⁶⁴.
///
/// Table-driven with slicing-by-8 (eight bytes per round through eight 256-entry tables,
/// table `k` being the CRC of a byte followed by `k` zero bytes).
package struct CRC64 {
    private(set) var state: UInt64 = ~0

    package init() {}

    /// `tables[k · 256 + b]`.
    private static let tables: [UInt64] = {
        let polynomial: UInt64 = 0xC96C_5795_D787_0F42
        var t = [UInt64](repeating: 0, count: 8 * 256)
        for b in 0..<256 {
            var crc = UInt64(b)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            t[b] = crc
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return t
    }()

    /// The checksum of everything fed so far.
    package var value: UInt64 { ~state }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var crc = state, i = 0
        let n = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            while i &+ 8 <= n {
                crc ^= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                crc = t[7 &* 256 &+ Int(crc & 0xFF)] ^ t[6 &* 256 &+ Int((crc >> 8) & 0xFF)]
                    ^ t[5 &* 256 &+ Int((crc >> 16) & 0xFF)] ^ t[4 &* 256 &+ Int((crc >> 24) & 0xFF)]
                    ^ t[3 &* 256 &+ Int((crc >> 32) & 0xFF)] ^ t[2 &* 256 &+ Int((crc >> 40) & 0xFF)]
                    ^ t[1 &* 256 &+ Int((crc >> 48) & 0xFF)] ^ t[Int(crc >> 56)]
                i &+= 8
            }
            while i < n {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) & 0xFF)]
                i &+= 1
            }
        }
        state = crc
    }

    package mutating func update<S: Sequence>(bytes: S) where S.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    package mutating func update(_ integer: UInt64) {
        withUnsafeBytes(of: integer.littleEndian) { update($0) }
    }
}

/// The checksum a checkpoint stores in its metadata under ``key``: CRC-64/XZ over a canonical
/// byte stream of its content, so that any change to a name, a shape, a value or a metadata
/// entry — not only to the file's bytes — is detected.
///
/// The stream, with names and keys ordered by their UTF-8 bytes and integers as 64-bit little
/// endian: for each tensor, its name's UTF-8 bytes, a zero byte, the rank, each dimension, then
/// its float32 values (little-endian bit patterns, as decoded); then for each metadata entry
/// except ``key``, the key's bytes, a zero byte, the value's bytes, a zero byte. The stored
/// text is `crc64-xz:` and 16 lowercase hexadecimal digits.
enum CheckpointChecksum {
    static let key = "crossres.checksum"
    static let algorithm = "crc64-xz"

    static func compute(tensors: [String: Tensor], metadata: [String: String]) -> String {
        text(value(tensors: tensors, metadata: metadata))
    }

    /// The CRC-64 that ``compute(tensors:metadata:)`` writes as text.
    static func value(tensors: [String: Tensor], metadata: [String: String]) -> UInt64 {
        var crc = CRC64()
        for name in utf8Sorted(tensors.keys) {
            let t = tensors[name]!
            crc.update(bytes: name.utf8)
            crc.update(bytes: [0])
            crc.update(UInt64(t.rank))
            for d in t.shape { crc.update(UInt64(d)) }
            t.withUnsafeBufferPointer { values in
                #if _endian(little)
                crc.update(UnsafeRawBufferPointer(values))
                #else
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { crc.update($0) } }
                #endif
            }
        }
        for name in utf8Sorted(metadata.keys) where name != key {
            crc.update(bytes: name.utf8)
            crc.update(bytes: [0])
            crc.update(bytes: metadata[name]!.utf8)
            crc.update(bytes: [0])
        }
        return crc.value
    }

    /// `crc64-xz:` and the value's 16 lowercase hexadecimal digits.
    static func text(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return algorithm + ":" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func utf8Sorted<S: Sequence>(_ names: S) -> [String] where S.Element == String {
        names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
