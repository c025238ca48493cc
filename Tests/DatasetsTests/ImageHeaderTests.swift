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
