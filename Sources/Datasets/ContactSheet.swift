import Foundation
import Tensor

/// A grid picture of HR/LR sample pairs, to look at a data set and a degradation.
///
/// Each cell shows the HR image and, right of it, the LR view enlarged to the HR height with
/// nearest-neighbour (so LR pixels stay visible as blocks). Cells are separated by `gap`
/// white pixels.
public enum ContactSheet {
    /// The grid of `pairs`, `columns` pairs per row (all HR images of one size; RGB if any
    /// image is RGB).
    public static func image(pairs: [(hr: Image, lr: Image)], columns: Int = 6, gap: Int = 2) -> Image {
        precondition(!pairs.isEmpty && columns >= 1, "ContactSheet.image: needs at least one pair and one column")
        let cellWidth = pairs[0].hr.width, cellHeight = pairs[0].hr.height
        precondition(pairs.allSatisfy { $0.hr.width == cellWidth && $0.hr.height == cellHeight },
                     "ContactSheet.image: HR images differ in size")
        let channels = pairs.contains { $0.hr.channels == 3 || $0.lr.channels == 3 } ? 3 : 1
        let rows = (pairs.count + columns - 1) / columns
        let cols = min(columns, pairs.count)
        let width = cols * (2 * cellWidth + gap) + gap, height = rows * (cellHeight + gap) + gap
        var sheet = Image(width: width, height: height, channels: channels, value: 255)
        for (k, pair) in pairs.enumerated() {
            let x = gap + (k % columns) * (2 * cellWidth + gap), y = gap + (k / columns) * (cellHeight + gap)
            let lrWidth = max(1, min(cellWidth, pair.lr.width * cellHeight / max(1, pair.lr.height)))
            let lr = pair.lr.resized(width: lrWidth, height: cellHeight, interpolation: .nearest)
            paste(pair.hr.converted(toChannels: channels), into: &sheet, x: x, y: y)
            paste(lr.converted(toChannels: channels), into: &sheet, x: x + cellWidth, y: y)
        }
        return sheet
    }

    /// The first `count` samples of `dataset` with their LR views (`degradation` drawn from
    /// generators seeded by `seed` and the index). An empty selection, fewer than one column,
    /// HR images of different sizes (resize the data set first) and a degradation that
    /// up-samples every view (``Degradation/checkDownsampling(width:height:)``) are errors;
    /// one that up-samples some views is passed to `warn`.
    public static func image(dataset: any FaceDataset, degradation: Degradation, count: Int = 24, columns: Int = 6,
                             seed: UInt64 = 0, warn: (String) -> Void = { _ in }) throws -> Image {
        guard count >= 1, dataset.count >= 1, columns >= 1 else {
            throw DatasetError("contact sheet", "needs at least one sample and one column, got \(min(count, dataset.count)) samples and \(columns) columns")
        }
        let images = try (0..<min(count, dataset.count)).map { try dataset.sample(at: $0).image }
        if let odd = images.first(where: { $0.width != images[0].width || $0.height != images[0].height }) {
            throw DatasetError("contact sheet", "HR images differ in size (\(images[0].width)×\(images[0].height) and \(odd.width)×\(odd.height)); resize the data set first")
        }
        if let warning = try degradation.checkDownsampling(width: images[0].width, height: images[0].height) { warn(warning) }
        let pairs = images.enumerated().map { i, hr -> (hr: Image, lr: Image) in
            var rng = RandomGenerator(seed: mixSeed(seed, UInt64(i)))
            return (hr, degradation.apply(to: hr, using: &rng))
        }
        return image(pairs: pairs, columns: columns)
    }

    private static func paste(_ image: Image, into sheet: inout Image, x: Int, y: Int) {
        let sheetWidth = sheet.width, sheetHeight = sheet.height
        sheet.withUnsafeMutableBufferPointer { dst in
            image.withUnsafeBufferPointer { src in
                for c in 0..<image.channels {
                    for row in 0..<image.height {
                        for col in 0..<image.width {
                            dst[(c * sheetHeight + y + row) * sheetWidth + x + col] = src[(c * image.height + row) * image.width + col]
                        }
                    }
                }
            }
        }
    }
}
