import Foundation

/// Images in one folder per identity: `root/<identity>/<image>.{pgm,ppm,pnm,png,jpg,jpeg}`.
///
/// Identities are the sub-folders of `root` in name order (labels `0..<k`); hidden entries,
/// files directly in `root`, files with other extensions (e.g. Yale's `*.pgm.bad`,
/// `*.info`) and names matching an `excluding` glob pattern (`fnmatch`, e.g. `*_Ambient.pgm`)
/// are skipped, and sub-folders left with no image are not identities. Images are decoded on
/// each ``sample(at:)``.
public struct ImageFolderDataset: FaceDataset {
    public let root: URL
    /// Folder name of each label.
    public let identityNames: [String]
    /// Image files, grouped by identity, in name order.
    public let files: [URL]
    private let fileLabels: [Int]

    /// The image extensions read (lower case).
    public static let imageExtensions: Set<String> = ["pgm", "ppm", "pnm", "png", "jpg", "jpeg"]

    public init(root: URL, excluding patterns: [String] = []) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError(root.path, "not a folder")
        }
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DatasetError(root.path, "cannot list: \(fileErrorReason(error))")
        }
        var names: [String] = [], files: [URL] = [], labels: [Int] = []
        for entry in entries {
            let folder = root.appendingPathComponent(entry)
            guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            let listed: [String]
            do { listed = try manager.contentsOfDirectory(atPath: folder.path) } catch {
                // An identity silently left out would change the data set without a word.
                throw DatasetError(folder.path, "cannot list: \(fileErrorReason(error))")
            }
            let images = listed.filter { name in
                !name.hasPrefix(".") && Self.imageExtensions.contains((name as NSString).pathExtension.lowercased())
                    && !patterns.contains { fnmatch($0, name, 0) == 0 }
            }.sorted()
            guard !images.isEmpty else { continue }
            for image in images {
                files.append(folder.appendingPathComponent(image))
                labels.append(names.count)
            }
            names.append(entry)
        }
        guard !files.isEmpty else { throw DatasetError(root.path, "no images in identity sub-folders (expected root/<identity>/<image>.png|jpg|pgm|ppm)") }
        self.root = root
        identityNames = names
        self.files = files
        fileLabels = labels
    }

    /// Extended Yale Face Database B, cropped (`CroppedYale/yaleBNN/*.pgm`), with the
    /// `*_Ambient.pgm` images skipped as usual protocols do (the `*.pgm.bad` files are not
    /// images by extension): 38 identities, 2414 images of 168 × 192.
    public static func extendedYaleB(root: URL) throws -> ImageFolderDataset {
        try ImageFolderDataset(root: root, excluding: ["*_Ambient.pgm"])
    }

    public var count: Int { files.count }
    public var identityCount: Int { identityNames.count }
    public func label(at index: Int) -> Int { fileLabels[index] }

    public func sample(at index: Int) throws -> Sample {
        Sample(image: try Image(contentsOf: files[index]), label: fileLabels[index])
    }
}
