import Foundation
import Testing
@testable import Datasets
import TestSupport

@Test func imageFolderLabelsSubfoldersAndSkipsPatterns() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let face = Image(width: 4, height: 3, channels: 1, value: 9)
    for (folder, names) in [("bob", ["1.png", "2.pgm", "x_Ambient.pgm", "3.pgm.bad", "notes.info"]), ("alice", ["a.jpg"]), ("empty", ["readme.txt"])] {
        let sub = dir.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for name in names {
            let url = sub.appendingPathComponent(name)
            if let format = ImageFormat(pathExtension: url.pathExtension) { try face.write(to: url, format: format) } else { try Array("x".utf8).write(to: url) }
        }
    }
    try Array("not an image".utf8).write(to: dir.appendingPathComponent("README.txt"))
    let set = try ImageFolderDataset(root: dir, excluding: ["*_Ambient.pgm"])
    #expect(set.identityNames == ["alice", "bob"])
    #expect(set.count == 3 && set.labels == [0, 1, 1])
    #expect(try set.sample(at: 2).image == face)
    #expect(try ImageFolderDataset(root: dir).count == 4)
    #expect(throws: DatasetError.self) { try ImageFolderDataset(root: dir.appendingPathComponent("missing")) }
    #expect(throws: DatasetError.self) { try ImageFolderDataset(root: dir.appendingPathComponent("empty")) }
}

@Test(.enabled(if: SharedData.url("extended_yale_b_cropped/CroppedYale") != nil, "../shared/data/extended_yale_b_cropped is absent"))
func extendedYaleB() throws {
    let yale = try ImageFolderDataset.extendedYaleB(root: SharedData.url("extended_yale_b_cropped/CroppedYale")!)
    #expect(yale.identityCount == 38 && yale.count == 2414)
    #expect(yale.labelHistogram.allSatisfy { (59...64).contains($0) })
    #expect(!yale.files.contains { $0.lastPathComponent.contains("Ambient") || $0.pathExtension == "bad" })
    let sample = try yale.sample(at: 100)
    #expect(sample.image.width == 168 && sample.image.height == 192 && sample.image.channels == 1)
}

/// Images directly in the root belong to no identity: they were skipped without a word
/// ("18 images of 3 identities" from a folder holding 24).
@Test func imagesDirectlyInTheRootAreAnError() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let face = Image(width: 4, height: 3, channels: 1, value: 9)
    for name in ["a/1.png", "b/1.png", "stray.png", "x_Ambient.pgm"] {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(name).deletingLastPathComponent(), withIntermediateDirectories: true)
        try face.write(to: dir.appendingPathComponent(name))
    }
    let error = try #require(throws: DatasetError.self) { try ImageFolderDataset(root: dir) }
    #expect(error.description == "\(dir.path): images are directly in the folder, in no identity sub-folder: stray.png, x_Ambient.pgm; "
            + "identities are sub-folders (root/<identity>/<image>): move them into one, or elsewhere", "\(error)")
    try FileManager.default.removeItem(at: dir.appendingPathComponent("stray.png"))
    #expect(try ImageFolderDataset(root: dir, excluding: ["*_Ambient.pgm"]).count == 2)
    // One identity's folder given as the data set: the hint names the parent.
    let single = try #require(throws: DatasetError.self) { try ImageFolderDataset(root: dir.appendingPathComponent("a")) }
    #expect(single.message.contains("an image is directly in the folder") && single.message.contains("give its parent folder"), "\(single)")
}

/// A broken image was found only when its batch was drawn; its header is now checked at open.
@Test func brokenImagesAreFoundWhenTheFolderOpens() throws {
    let dir = Fixtures.temporaryDirectory()
    defer { Fixtures.cleanUp(dir) }
    let face = Image(width: 4, height: 3, channels: 1, value: 9)
    for name in ["a/1.pgm", "a/2.png", "b/1.pgm"] {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(name).deletingLastPathComponent(), withIntermediateDirectories: true)
        try face.write(to: dir.appendingPathComponent(name))
    }
    try [UInt8]().write(to: dir.appendingPathComponent("b/2.jpg"))
    try Array(face.encoded(as: .pnm).dropLast()).write(to: dir.appendingPathComponent("b/3.pgm"))
    let error = try #require(throws: DatasetError.self) { try ImageFolderDataset(root: dir) }
    let b = dir.appendingPathComponent("b").path
    #expect(error.description == "\(dir.path): 2 of 5 images cannot be read (remove or replace them): \(b)/2.jpg: empty file; "
            + "\(b)/3.pgm: truncated: 4x3x1 at 8 bits needs 12 raster bytes, file has 11", "\(error)")
    // Unchecked, the set opens and the broken file fails when read.
    let unchecked = try ImageFolderDataset(root: dir, checkingHeaders: false)
    #expect(unchecked.count == 5)
    #expect(throws: DatasetError.self) { try unchecked.sample(at: 3) }
}
