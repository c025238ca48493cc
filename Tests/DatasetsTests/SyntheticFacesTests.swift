import Foundation
import Testing
import Tensor
@testable import Datasets

@Test func syntheticFacesAreDeterministicAndLabelled() {
    let faces = SyntheticFaces(identities: 5, imagesPerIdentity: 3, size: 32, seed: 7)
    #expect(faces.count == 15 && faces.identityCount == 5)
    #expect(faces.labels == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4])
    let a = faces.sample(at: 4), b = SyntheticFaces(identities: 5, imagesPerIdentity: 3, size: 32, seed: 7).sample(at: 4)
    #expect(a == b && a.label == 1)
    #expect(a.image.width == 32 && a.image.height == 32 && a.image.channels == 3)
    #expect(a.image.pixels.allSatisfy { $0 >= 0 && $0 <= 255 })
    #expect(faces.sample(at: 3).image != a.image)
    #expect(SyntheticFaces(identities: 5, imagesPerIdentity: 3, size: 32, seed: 8).sample(at: 4).image != a.image)
    #expect(SyntheticFaces(identities: 1, imagesPerIdentity: 1, size: 16, channels: 1).sample(at: 0).image.channels == 1)
}

/// Inside the face (centre crop, away from the random background) images of one identity are
/// mostly nearest to each other at HR: the identity signal dominates the nuisance.
@Test func identitiesDominateNuisance() {
    let faces = SyntheticFaces(identities: 6, imagesPerIdentity: 4, size: 32, seed: 1)
    let images = (0..<faces.count).map { faces.sample(at: $0).image.centreCropped(width: 18, height: 18).pixels }
    func distance(_ i: Int, _ j: Int) -> Float { zip(images[i], images[j]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
    var correct = 0
    for i in 0..<faces.count {
        let nearest = (0..<faces.count).filter { $0 != i }.min { distance(i, $0) < distance(i, $1) }!
        if faces.label(at: nearest) == faces.label(at: i) { correct += 1 }
    }
    #expect(correct >= faces.count * 2 / 3, "nearest-neighbour identity accuracy \(correct)/\(faces.count)")
}

@Test func contactSheetOfSyntheticFaces() throws {
    let faces = SyntheticFaces(identities: 6, imagesPerIdentity: 3, size: 112, seed: 3)
    let sheet = try ContactSheet.image(dataset: faces, degradation: try Degradation(parsing: "size=16,up=hr"), count: 18, columns: 3)
    #expect(sheet.width == 3 * (2 * 112 + 2) + 2 && sheet.height == 6 * (112 + 2) + 2)
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let out = dir.appendingPathComponent("sheet.png")
    try sheet.write(to: out)
    #expect(try Image(contentsOf: out) == sheet.quantized())
}

/// A sheet of nothing, or of HR images of two sizes, is an error (it trapped before).
@Test func contactSheetRefusesEmptyAndUnevenSelections() throws {
    let faces = SyntheticFaces(identities: 2, imagesPerIdentity: 2, size: 16, seed: 3)
    let plain = try Degradation(parsing: "size=8,up=hr")
    #expect(throws: DatasetError.self) { try ContactSheet.image(dataset: faces, degradation: plain, count: 0) }
    #expect(throws: DatasetError.self) { try ContactSheet.image(dataset: faces, degradation: plain, columns: 0) }
    let uneven = InMemoryDataset(samples: [Sample(image: Image(width: 16, height: 16, channels: 3, value: 0), label: 0),
                                               Sample(image: Image(width: 20, height: 16, channels: 3, value: 0), label: 1)])
    let error = try #require(throws: DatasetError.self) { try ContactSheet.image(dataset: uneven, degradation: plain) }
    #expect("\(error)".contains("HR images differ in size (16×16 and 20×16)"), "\(error)")
}
