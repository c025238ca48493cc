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
    try face.write(to: dir.appendingPathComponent("stray.png"))
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
