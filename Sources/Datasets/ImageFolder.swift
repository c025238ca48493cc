import Foundation

/// Images in one folder per identity: `root/<identity>/<image>.{pgm,ppm,pnm,png,jpg,jpeg}`.
///
/// Identities are the sub-folders of `root` in name order (labels `0..<k`); hidden entries,
/// files with other extensions (e.g. Yale's `*.pgm.bad`, `*.info`) and names matching an
/// `excluding` glob pattern (`fnmatch`, e.g. `*_Ambient.pgm`) are skipped, and sub-folders left
/// with no image are not identities. An image directly in `root` is an error naming it (it
/// belongs to no identity; skipping it would drop data without a word). Every image's header is
/// checked when the set opens (``ImageHeader``: an empty, foreign or truncated file is an error
/// naming it then, not when its batch is drawn); images are decoded on each ``sample(at:)``.
public struct ImageFolderDataset: FaceDataset {
    public let root: URL
    /// Folder name of each label.
    public let identityNames: [String]
    /// Image files, grouped by identity, in name order.
    public let files: [URL]
    private let fileLabels: [Int]

    /// The image extensions read (lower case).
    public static let imageExtensions: Set<String> = ["pgm", "ppm", "pnm", "png", "jpg", "jpeg"]

    /// The images under `root`, except those matching a pattern of `excluding`; with
    /// `checkingHeaders` (default) every file's header is checked first.
    public init(root: URL, excluding patterns: [String] = [], checkingHeaders: Bool = true) throws {
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
        func imageNames(among names: [String]) -> [String] {
            names.filter { name in
                !name.hasPrefix(".") && Self.imageExtensions.contains((name as NSString).pathExtension.lowercased())
                    && !patterns.contains { fnmatch($0, name, 0) == 0 }
            }.sorted()
        }
        var names: [String] = [], files: [URL] = [], labels: [Int] = [], loose: [String] = []
        for entry in entries {
            let folder = root.appendingPathComponent(entry)
            guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                loose += imageNames(among: [entry])
                continue
            }
            let listed: [String]
            do { listed = try manager.contentsOfDirectory(atPath: folder.path) } catch {
                // An identity silently left out would change the data set without a word.
                throw DatasetError(folder.path, "cannot list: \(fileErrorReason(error))")
            }
            let images = imageNames(among: listed)
            guard !images.isEmpty else { continue }
            for image in images {
                files.append(folder.appendingPathComponent(image))
                labels.append(names.count)
            }
            names.append(entry)
        }
        guard loose.isEmpty else {
            let shown = loose.prefix(5).joined(separator: ", ") + (loose.count > 5 ? ", … (\(loose.count) in all)" : "")
            throw DatasetError(root.path, "\(loose.count == 1 ? "an image is" : "images are") directly in the folder, in no identity sub-folder: \(shown); "
                               + "identities are sub-folders (root/<identity>/<image>): move \(loose.count == 1 ? "it" : "them") into one, or elsewhere"
                               + (files.isEmpty ? " (if this folder is one identity, give its parent folder)" : ""))
        }
        guard !files.isEmpty else { throw DatasetError(root.path, "no images in identity sub-folders (expected root/<identity>/<image>.png|jpg|pgm|ppm)") }
        if checkingHeaders {
            var broken: [String] = []
            for file in files {
                do { try ImageHeader.check(file) } catch { broken.append("\(error)") }
            }
            guard broken.isEmpty else {
                throw DatasetError(root.path, "\(broken.count) of \(files.count) images cannot be read (remove or replace them): "
                                   + broken.prefix(5).joined(separator: "; ") + (broken.count > 5 ? "; …" : ""))
            }
        }
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
