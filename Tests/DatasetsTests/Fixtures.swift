import Foundation
import Testing
import TestSupport

/// Datasets test helpers: temporary folders, raw file bytes, pillow fixtures (Python, shared
/// data and processes come from TestSupport).
enum Fixtures {
    /// A fresh temporary directory (removed by the caller with `cleanUp`).
    static func temporaryDirectory() -> URL { try! TemporaryDirectory.make("datasets") }

    static func cleanUp(_ url: URL) { try? FileManager.default.removeItem(at: url) }

    static let hasPillow = Python.has("PIL", "numpy")

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

extension Fixtures {
    /// Little-endian float32 values written by numpy's `tofile`.
    static func floats(_ url: URL) throws -> [Float] {
        let data = try bytes(url)
        return stride(from: 0, to: data.count, by: 4).map { i in
            Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
        }
    }

    /// The largest absolute difference between two equally long arrays.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maxDifference: \(a.count) vs \(b.count) values")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// A Python prelude: numpy, pillow, and `save(name, array)` writing planar float32.
    static let pillowPrelude = """
    import numpy as np, zlib, struct
    from PIL import Image
    rng = np.random.default_rng(0)
    def save(name, arr):
        a = np.asarray(arr, np.float32)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        np.ascontiguousarray(a).tofile(name + '.f32')

    """
}
