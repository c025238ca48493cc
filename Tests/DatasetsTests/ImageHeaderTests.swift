import Foundation
import Testing
@testable import Datasets

/// The header check ``ImageFolderDataset`` runs on every file at open.
struct ImageHeaderTests {
    @Test func acceptsWhatTheEncodersWrite() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let image = Image(width: 7, height: 5, channels: 3, value: 90)
        for format in ImageFormat.allCases {
            let url = dir.appendingPathComponent("face.\(format.rawValue)")
            try image.write(to: url, format: format)
            try ImageHeader.check(url)
        }
        // A PGM header with a comment, and a text (P2) raster.
        let pgm = dir.appendingPathComponent("text.pgm")
        try Array("P2\n# a comment\n2 1\n255\n0 255\n".utf8).write(to: pgm)
        try ImageHeader.check(pgm)
    }

    /// A binary PGM whose header runs past the bytes read (a comment of about 4 KiB) is left to
    /// the decoder wherever the prefix ends: inside maxval's digits or right after them, before
    /// the whitespace that starts the raster. It was refused ("no raster after the header").
    @Test func aHeaderPastThePrefixIsLeftToTheDecoder() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let url = dir.appendingPathComponent("long.pgm"), face = Image(width: 3, height: 2, channels: 1, value: 90)
        let encoded = try face.encoded(as: .pnm)  // "P5\n3 2\n255\n" and the raster
        let header = Array("P5\n".utf8), size = Array("3 2\n".utf8), last = ImageHeader.prefixLength - 1
        for maxval in ["255", "65535"] {
            let raster = maxval == "255" ? Array(encoded.suffix(6)) : [UInt8](repeating: 0x5A, count: 12)
            // The newline after maxval at bytes 4095 (inside the prefix), 4096 and 4097, and each
            // split of maxval's digits across the prefix's end.
            for newline in (last - 1)...(last + maxval.count + 1) {
                let fill = newline - maxval.count - header.count - size.count - 2  // "#" and its newline
                let bytes = header + Array("#".utf8) + [UInt8](repeating: 0x78, count: fill) + Array("\n".utf8) + size + Array("\(maxval)\n".utf8) + raster
                #expect(bytes[newline] == 0x0A)
                try bytes.write(to: url)
                #expect(throws: Never.self, "maxval \(maxval), newline at \(newline)") { try ImageHeader.check(url) }
                #expect(try Image(contentsOf: url).width == 3)
                // Cut short, the file is still refused when decoded.
                try Array(bytes.dropLast()).write(to: url)
                #expect(throws: DatasetError.self) { try Image(contentsOf: url) }
            }
        }
        // A whole file whose header ends at its last byte has no raster.
        try Array("P5\n3 2\n255".utf8).write(to: url)
        let error = try #require(throws: DatasetError.self) { try ImageHeader.check(url) }
        #expect(error.message.contains("truncated: no raster after the header"), "\(error)")
    }

    @Test func refusesBrokenFilesNamingThem() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        let face = Image(width: 7, height: 5, channels: 1, value: 90)
        let png = try face.encoded(as: .png), jpeg = try face.encoded(as: .jpeg), pgm = try face.encoded(as: .pnm)
        var wide = png
        wide[16..<20] = [0, 1, 0, 0]  // IHDR width 65536
        let cases: [(name: String, bytes: [UInt8], problem: String)] = [
            ("empty.png", [], "empty file"),
            ("page.jpg", Array("<html>not found</html>".utf8), "not a PGM/PPM, PNG or JPEG file (starts with 3c 68 74 6d)"),
            ("cut.pgm", Array(pgm.prefix(pgm.count - 1)), "truncated: 7x5x1 at 8 bits needs 35 raster bytes, file has 34"),
            ("head.png", Array(png.prefix(12)), "PNG error: the file does not start with an IHDR chunk"),
            ("wide.png", wide, "image size 65536x5 exceeds the limit"),
            ("head.jpg", Array(jpeg.prefix(4)), "JPEG error: the file ends before its frame header"),
            ("noframe.jpg", [0xFF, 0xD8, 0xFF, 0xDA, 0, 2], "JPEG error: no frame header before the image data"),
            ("garbled.jpg", [0xFF, 0xD8, 0x12, 0x34, 0, 2], "JPEG error: no marker at byte 2"),
        ]
        for (name, bytes, problem) in cases {
            let url = dir.appendingPathComponent(name)
            try bytes.write(to: url)
            let error = try #require(throws: DatasetError.self, "\(name)") { try ImageHeader.check(url) }
            #expect(error.source == url.path && error.message.contains(problem), "\(name): \(error)")
        }
    }
}
