import Foundation
import Testing
@testable import Datasets
import TestSupport

/// Decoders against files written by Pillow, encoders read back by Pillow, and corrupt files.
@Suite(.enabled(if: Fixtures.hasPillow, "python3 with pillow and numpy is not installed"))
struct CodecTests {
    static let script = Fixtures.pillowPrelude + """
    g = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    c = rng.integers(0, 256, (6, 4, 3), dtype=np.uint8)
    Image.fromarray(g).save('grey.pgm'); save('grey.pgm', g)
    Image.fromarray(c).save('rgb.ppm'); save('rgb.ppm', c)
    g16 = rng.integers(0, 65536, (3, 5)).astype(np.uint16)
    Image.fromarray(g16).save('grey16.pgm'); save('grey16.pgm', g16.astype(np.float64) * 255 / 65535)
    t = rng.integers(0, 16, (2, 3))
    open('grey.p2.pgm', 'w').write('P2\\n# a comment\\n3 2\\n15\\n' + ' '.join(map(str, t.flatten())) + '\\n')
    save('grey.p2.pgm', t * 255.0 / 15)
    t3 = rng.integers(0, 1001, (2, 2, 3))
    open('rgb.p3.ppm', 'w').write('P3 2 2 1000\\n' + '\\n'.join(map(str, t3.flatten())))
    save('rgb.p3.ppm', t3 * 255.0 / 1000)
    Image.fromarray(g).save('grey.png'); save('grey.png', g)
    Image.fromarray(c).save('rgb.png'); save('rgb.png', c)
    p = Image.fromarray(c).quantize(8); p.save('palette.png'); save('palette.png', np.array(p.convert('RGB')))
    Image.fromarray(np.dstack([c, np.full((6, 4), 255, np.uint8)])).save('rgba.png'); save('rgba.png', c)
    Image.fromarray(g16).save('grey16.png'); save('grey16.png', g16.astype(np.float64) / 257)
    y, x = np.mgrid[0:16, 0:24]
    smooth = np.dstack([x * 10, y * 15, (x + y) * 6]).astype(np.uint8)
    Image.fromarray(smooth).save('rgb.jpg', quality=90); save('rgb.jpg', np.array(Image.open('rgb.jpg')))
    Image.fromarray(smooth[..., 0]).save('grey.jpg', quality=75); save('grey.jpg', np.array(Image.open('grey.jpg')))
    """

    static let files: [(name: String, channels: Int, tolerance: Float)] = [
        ("grey.pgm", 1, 0), ("rgb.ppm", 3, 0), ("grey16.pgm", 1, 1e-3), ("grey.p2.pgm", 1, 1e-4), ("rgb.p3.ppm", 3, 1e-4),
        ("grey.png", 1, 0), ("rgb.png", 3, 0), ("palette.png", 3, 0), ("rgba.png", 3, 0), ("grey16.png", 1, 0.51),
        ("rgb.jpg", 3, 0), ("grey.jpg", 1, 0),
    ]

    @Test func decodesPillowFiles() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run(Self.script, in: dir)
        for file in Self.files {
            let image = try Image(contentsOf: dir.appendingPathComponent(file.name))
            let expected = try Fixtures.floats(dir.appendingPathComponent(file.name + ".f32"))
            #expect(image.channels == file.channels, "\(file.name)")
            #expect(image.count == expected.count, "\(file.name)")
            if image.count == expected.count {
                #expect(Fixtures.maxDifference(image.pixels, expected) <= file.tolerance, "\(file.name)")
            }
        }
    }

    @Test func pillowReadsWhatWeWrite() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        var rng = SplitMix(seed: 3)
        let rgb = Image(width: 9, height: 5, channels: 3, pixels: (0..<135).map { _ in Float(rng.next() % 256) })
        let grey = rgb.grey().quantized()
        try rgb.write(to: dir.appendingPathComponent("a.png"))
        try grey.write(to: dir.appendingPathComponent("b.pgm"))
        try rgb.write(to: dir.appendingPathComponent("c.ppm"))
        try PNM.encode(grey, sixteenBit: true).write(to: dir.appendingPathComponent("d.pgm"))
        try rgb.write(to: dir.appendingPathComponent("e.jpg"), quality: 80)
        try Python.run("""
        import numpy as np
        from PIL import Image
        for name in ['a.png', 'b.pgm', 'c.ppm', 'd.pgm', 'e.jpg']:
            a = np.asarray(Image.open(name), np.float32)
            if name == 'd.pgm': a = a / 257
            a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
            np.ascontiguousarray(a).tofile(name + '.f32')
        """, in: dir)
        #expect(try Fixtures.floats(dir.appendingPathComponent("a.png.f32")) == rgb.pixels)
        #expect(try Fixtures.floats(dir.appendingPathComponent("b.pgm.f32")) == grey.pixels)
        #expect(try Fixtures.floats(dir.appendingPathComponent("c.ppm.f32")) == rgb.pixels)
        #expect(Fixtures.maxDifference(try Fixtures.floats(dir.appendingPathComponent("d.pgm.f32")), grey.pixels) < 1e-3)
        let jpeg = try Image(contentsOf: dir.appendingPathComponent("e.jpg"))
        #expect(try Fixtures.floats(dir.appendingPathComponent("e.jpg.f32")) == jpeg.pixels)
    }

    @Test func corruptFilesThrowNamingTheFile() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run(Self.script, in: dir)
        for file in Self.files {
            let bytes = try Fixtures.bytes(dir.appendingPathComponent(file.name))
            for (variant, cut) in [("half", bytes.count / 2), ("head", min(12, bytes.count - 1)), ("nearly", bytes.count - 16)] {
                let name = "\(file.name).\(variant)"
                #expect(throws: DatasetError.self, "\(name)") { try Image(decoding: Array(bytes.prefix(cut)), name: name) }
                do { _ = try Image(decoding: Array(bytes.prefix(cut)), name: name) } catch let error as DatasetError {
                    #expect(error.description.hasPrefix(name + ": "))
                }
            }
        }
        #expect(throws: DatasetError.self) { try Image(decoding: [], name: "empty") }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("hello world".utf8), name: "text") }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("P7\n2 2\n".utf8), name: "pam") }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("P5 2 2 255\n\u{1}\u{2}\u{3}".utf8), name: "short") }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("P2 2 1 15 3 16".utf8), name: "over maxval") }
        #expect(throws: DatasetError.self) { try Image(contentsOf: dir.appendingPathComponent("missing.png")) }
    }

    @Test func lyingHeadersDoNotAllocate() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run(Self.script + """

        def lie_png(src, dst, w, h):
            b = bytearray(open(src, 'rb').read())
            b[16:24] = struct.pack('>II', w, h)
            b[29:33] = struct.pack('>I', zlib.crc32(bytes(b[12:29])))
            open(dst, 'wb').write(b)
        lie_png('rgb.png', 'huge.png', 20000, 20000)
        lie_png('rgb.png', 'big.png', 5000, 5000)
        b = bytearray(open('rgb.jpg', 'rb').read())
        i = b.index(b'\\xff\\xc0')
        b[i + 5:i + 9] = struct.pack('>HH', 5000, 5000)
        open('big.jpg', 'wb').write(b)
        """, in: dir)
        for name in ["huge.png", "big.png", "big.jpg"] {
            #expect(throws: DatasetError.self, "\(name)") { try Image(contentsOf: dir.appendingPathComponent(name)) }
        }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("P5 30000 30000 255\n".utf8) + [1, 2], name: "lying.pgm") }
        #expect(throws: DatasetError.self) { try Image(decoding: Array("P6 99999 99999 255\n".utf8), name: "lying.ppm") }
    }

    @Test func greyAndRGBConversion() {
        let rgb = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 255, 0, 0])
        let grey = rgb.grey()
        #expect(grey.channels == 1)
        #expect(abs(grey.pixels[0] - 76.245) < 1e-3 && abs(grey.pixels[1] - 149.685) < 1e-3)
        let back = grey.rgb()
        #expect(back.channels == 3 && back[1, 0, 2] == grey.pixels[1])
        #expect(Fixtures.maxDifference(back.converted(toChannels: 1).pixels, grey.pixels) < 1e-3)
        #expect(grey.converted(toChannels: 1) == grey)
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension [UInt8] {
    func write(to url: URL) throws { try Data(self).write(to: url) }
}
