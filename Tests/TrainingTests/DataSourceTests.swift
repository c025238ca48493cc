import Foundation
import Testing
import CrossRes

@Suite struct DataSourceTests {
    func message(_ text: String) -> String {
        do { _ = try DataSource(parsing: text) } catch { return "\(error)" }
        return ""
    }

    @Test func syntheticDefaultsAndKeys() throws {
        #expect(try DataSource(parsing: "synthetic") == .synthetic(identities: 100, imagesPerIdentity: 16, size: 32, channels: 3, seed: 42))
        let s = try DataSource(parsing: "synthetic:identities=20,images=8,size=32,seed=7")
        #expect(s == .synthetic(identities: 20, imagesPerIdentity: 8, size: 32, channels: 3, seed: 7))
        #expect(try DataSource(parsing: s.description) == s)
        let faces = try DataSource(parsing: "synthetic:identities=3,images=2,size=16,channels=1").open()
        #expect(faces.count == 6)
        #expect(faces.identityCount == 3)
        let image = try faces.sample(at: 5).image
        #expect(image.width == 16 && image.channels == 1)
    }

    @Test func badArgumentsNameTheProblem() throws {
        #expect(message("synthetic:identites=3").contains("'identites=3' is not key=value with a key of identities"))
        #expect(message("synthetic:identities=1").contains("identities must be in 2"))
        #expect(message("synthetic:size=x").contains("'size' needs a non-negative integer"))
        #expect(message("synthetic:size=8,size=9").contains("given twice"))
        #expect(message("synthetic:channels=2").contains("channels must be 1 or 3"))
        #expect(message("/no/such/faces").contains("no such file or folder"))
        #expect(message("").contains("empty"))
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let file = folder + "/faces.txt"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(message(file).contains("not a .rec"))
        #expect(try DataSource(parsing: folder) == .imageFolder(folder))
        let rec = folder + "/train.rec"
        #expect(FileManager.default.createFile(atPath: rec, contents: Data()))
        #expect(try DataSource(parsing: rec) == .recordIO(rec))
    }

    /// identities × images is bounded (each key alone was: 10¹¹ images aborted on allocation),
    /// and a large allowed set renders at each read instead of all at once.
    @Test func syntheticSizeIsBoundedAndLargeSetsRenderLazily() throws {
        let refusal = message("synthetic:identities=1000000,images=100000")
        #expect(refusal.contains("data 'synthetic:identities=1000000,images=100000': 1000000 identities × 100000 images = 100000000000 images, "
                                 + "more than the limit of \(DataSource.maximumSyntheticImages)"), "\(refusal)")
        #expect(refusal.contains("1600.0 GB"), "\(refusal)")
        #expect(message("synthetic:identities=1000000,images=16").isEmpty && message("synthetic:identities=1000000,images=17").contains("17000000 images"))
        // 2 M images of 128 × 128 × 3 (393 GB of pixels): opened without rendering any.
        let large = try DataSource(parsing: "synthetic:identities=20000,images=100,size=128").open()
        #expect(large is SyntheticFaces && large.count == 2_000_000)
        #expect(try large.sample(at: 1_999_999).label == 19_999)
        #expect(try DataSource(parsing: "synthetic").open() is InMemoryDataset)
    }

    @Test func foldersAndRecordIOOpen() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let faces = SyntheticFaces(identities: 3, imagesPerIdentity: 2, size: 8, channels: 3, seed: 1)
        try writeImageFolder(faces, to: folder + "/faces")
        let images = try DataSource(parsing: folder + "/faces").open()
        #expect(images.count == 6 && images.identityCount == 3)
        try RecordIODataset.write(images, rec: URL(fileURLWithPath: folder + "/faces.rec"), format: .png)
        let packed = try DataSource(parsing: folder + "/faces.rec").open()
        #expect(packed.labels == images.labels)
        #expect(try packed.sample(at: 4).image == images.sample(at: 4).image)
    }
}
