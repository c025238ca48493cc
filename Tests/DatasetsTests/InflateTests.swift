import Foundation
import Testing
@testable import Datasets
import TestSupport

/// The pure-Swift DEFLATE/gzip decoder against Python's zlib and gzip.
@Suite(.enabled(if: Python.has("gzip", "zlib"), "python3 is not installed"))
struct InflateTests {
    @Test func decodesZlibOutputAtEveryLevel() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run("""
        import gzip, zlib, random
        random.seed(4)
        text = b''.join(random.choice([b'face ', b'identity ', b'low resolution ', bytes([random.randrange(256)])]) for _ in range(20000))
        open('plain.bin', 'wb').write(text)
        for level in [0, 1, 6, 9]:
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            open(f'raw{level}.deflate', 'wb').write(c.compress(text) + c.flush())
        fixed = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED)
        open('fixed.deflate', 'wb').write(fixed.compress(text) + fixed.flush())
        open('two.gz', 'wb').write(gzip.compress(text[:5000], mtime=0) + gzip.compress(text[5000:], mtime=0))
        open('empty.gz', 'wb').write(gzip.compress(b'', mtime=0))
        """, in: dir)
        let plain = try Fixtures.bytes(dir.appendingPathComponent("plain.bin"))
        for name in ["raw0.deflate", "raw1.deflate", "raw6.deflate", "raw9.deflate", "fixed.deflate"] {
            #expect(try Inflate.inflate(try Fixtures.bytes(dir.appendingPathComponent(name)), name: name) == plain, "\(name)")
        }
        #expect(try Inflate.gunzip(try Fixtures.bytes(dir.appendingPathComponent("two.gz")), name: "two.gz") == plain)
        #expect(try Inflate.gunzip(try Fixtures.bytes(dir.appendingPathComponent("empty.gz")), name: "empty.gz") == [])
    }

    @Test func corruptStreamsThrow() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run("""
        import gzip
        open('a.gz', 'wb').write(gzip.compress(bytes(range(256)) * 300, mtime=0))
        """, in: dir)
        let good = try Fixtures.bytes(dir.appendingPathComponent("a.gz"))
        #expect(try Inflate.gunzip(good, name: "a.gz").count == 256 * 300)
        var flipped = good
        flipped[good.count / 2] ^= 0x55
        for (variant, bytes) in [("truncated", Array(good.prefix(good.count / 2))), ("no trailer", Array(good.dropLast(8))),
                                 ("flipped", flipped), ("not gzip", Array("hello".utf8))] {
            #expect(throws: DatasetError.self, "\(variant)") { try Inflate.gunzip(bytes, name: variant) }
        }
        #expect(throws: DatasetError.self) { try Inflate.gunzip(good, name: "limit", limit: 1000) }
        #expect(throws: DatasetError.self) { try Inflate.inflate([0xFF, 0xFF, 0xFF], name: "type 3") }
    }
}
