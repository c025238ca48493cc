import Foundation

/// Digit data sets (classes 0–9 as labels), for the MNIST ↔ USPS adaptation benchmark of ADDA
/// (Tzeng et al., CVPR 2017). Files may be gzip-compressed (detected by content); sizes are
/// checked against ``ParserLimits`` before anything is allocated.
///
/// - MNIST IDX (LeCun et al.): big-endian header `0x0000_0803, n, rows, cols` + `n·rows·cols`
///   bytes for images, `0x0000_0801, n` + `n` bytes for labels; pixels 0…255.
/// - MNIST CSV (`mnist_5k`): one digit per line, `rows·cols` pixels 0…255 then the label.
/// - USPS (Hastie et al., *The Elements of Statistical Learning*): one digit per line, the label
///   then 256 values in `[−1, 1]` (16 × 16, row-major), mapped to pixels by `(v + 1) · 127.5`.
public enum Digits {
    /// MNIST from IDX image and label files.
    public static func mnistIDX(images: URL, labels: URL, limits: ParserLimits = .standard) throws -> InMemoryDataset {
        let (imageDims, pixels) = try readIDX(images, expectedRank: 3, limits: limits)
        let (labelDims, labelBytes) = try readIDX(labels, expectedRank: 1, limits: limits)
        guard imageDims[0] == labelDims[0] else {
            throw DatasetError(labels.path, "\(labelDims[0]) labels for \(imageDims[0]) images in \(images.path)")
        }
        guard imageDims[0] > 0 else { throw DatasetError(images.path, "no digits: the IDX header counts 0 images") }
        let (rows, cols) = (imageDims[1], imageDims[2])
        try limits.checkImage(width: cols, height: rows, name: images.path)
        let samples = try (0..<imageDims[0]).map { i -> Sample in
            guard labelBytes[i] < 10 else { throw DatasetError(labels.path, "label \(labelBytes[i]) of item \(i) is not a digit") }
            let image = pixels.withUnsafeBufferPointer {
                Image(width: cols, height: rows, channels: 1, interleaved: UnsafeBufferPointer(rebasing: $0[(i * rows * cols)..<((i + 1) * rows * cols)]))
            }
            return Sample(image: image, label: Int(labelBytes[i]))
        }
        return InMemoryDataset(samples: samples, identityCount: 10)
    }

    /// An IDX file of unsigned bytes (type `0x08`): its dimensions and data. The first
    /// dimension is bounded by `limits.maximumIDXItems`; the data must fill the rest exactly.
    public static func readIDX(_ url: URL, expectedRank: Int, limits: ParserLimits = .standard) throws -> (dimensions: [Int], data: [UInt8]) {
        let bytes = try contents(url, limits: limits)
        let name = url.path
        guard !bytes.isEmpty else { throw DatasetError(name, "empty: 0 bytes of data (after gunzip, if gzip), not even an IDX header") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw DatasetError(name, "not an IDX file (bad magic)") }
        guard bytes[2] == 0x08 else { throw DatasetError(name, "IDX element type 0x\(String(bytes[2], radix: 16)) unsupported (only unsigned bytes, 0x08)") }
        let rank = Int(bytes[3])
        guard rank == expectedRank else { throw DatasetError(name, "IDX rank \(rank), expected \(expectedRank)") }
        guard bytes.count >= 4 + 4 * rank else { throw DatasetError(name, "truncated IDX header") }
        let dims = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
        guard dims.first.map({ $0 <= limits.maximumIDXItems }) ?? true else {
            throw DatasetError(name, "IDX item count \(dims[0]) exceeds the limit of \(limits.maximumIDXItems)")
        }
        // Dimensions are below 2³², so a product that overflows cannot match the file anyway.
        let (total, overflow) = dims.reduce((1, false)) { product, d in
            let (value, wrapped) = product.0.multipliedReportingOverflow(by: d)
            return (value, product.1 || wrapped)
        }
        guard !overflow, bytes.count - (4 + 4 * rank) == total else {
            throw DatasetError(name, "IDX dimensions \(dims) need \(total) bytes of data, file has \(bytes.count - 4 - 4 * rank)")
        }
        return (dims, Array(bytes[(4 + 4 * rank)...]))
    }

    /// MNIST digits in CSV rows (`side·side` pixels 0…255, then the label).
    public static func mnistCSV(_ url: URL, side: Int = 28, limits: ParserLimits = .standard) throws -> InMemoryDataset {
        let rows = try TextTable.rows(try contents(url, limits: limits), separator: UInt8(ascii: ","), name: url.path)
        guard !rows.isEmpty else { throw DatasetError(url.path, noRows) }
        let samples = try rows.enumerated().map { line, values -> Sample in
            guard values.count == side * side + 1 else {
                throw DatasetError(url.path, "line \(line + 1) has \(values.count) values, expected \(side * side + 1)")
            }
            guard let label = digit(values[side * side]) else { throw DatasetError(url.path, "line \(line + 1): label \(values[side * side]) is not a digit") }
            guard values.dropLast().allSatisfy({ (0...255).contains($0) }) else { throw DatasetError(url.path, "line \(line + 1): a pixel is outside 0...255") }
            return Sample(image: Image(width: side, height: side, channels: 1, pixels: Array(values.dropLast())), label: label)
        }
        return InMemoryDataset(samples: samples, identityCount: 10)
    }

    /// USPS digits in text rows (label, then 256 values in `[−1, 1]`).
    public static func usps(_ url: URL, limits: ParserLimits = .standard) throws -> InMemoryDataset {
        let rows = try TextTable.rows(try contents(url, limits: limits), separator: UInt8(ascii: " "), name: url.path)
        guard !rows.isEmpty else { throw DatasetError(url.path, noRows) }
        let samples = try rows.enumerated().map { line, values -> Sample in
            guard values.count == 257 else { throw DatasetError(url.path, "line \(line + 1) has \(values.count) values, expected 257") }
            guard let label = digit(values[0]) else { throw DatasetError(url.path, "line \(line + 1): label \(values[0]) is not a digit") }
            guard values.dropFirst().allSatisfy({ (-1.0001...1.0001).contains($0) }) else { throw DatasetError(url.path, "line \(line + 1): a value is outside [-1, 1]") }
            let pixels = values.dropFirst().map { min(max(($0 + 1) * 127.5, 0), 255) }
            return Sample(image: Image(width: 16, height: 16, channels: 1, pixels: pixels), label: label)
        }
        return InMemoryDataset(samples: samples, identityCount: 10)
    }

    /// A text file without a line of digits (an empty file, or gzip of nothing).
    private static let noRows = "no digits: not a line of numbers (after gunzip, if gzip)"

    private static func digit(_ v: Float) -> Int? { v == v.rounded() && v >= 0 && v <= 9 ? Int(v) : nil }

    /// File contents, gunzipped (up to `limits.maximumDecompressedBytes`) when they are gzip data.
    static func contents(_ url: URL, limits: ParserLimits) throws -> [UInt8] {
        let bytes = try readFile(url)
        return Inflate.isGzip(bytes) ? try Inflate.gunzip(bytes, name: url.path, limit: limits.maximumDecompressedBytes) : bytes
    }
}

/// Lines of numbers separated by a byte (and/or spaces), parsed without `String` round trips.
enum TextTable {
    static func rows(_ bytes: [UInt8], separator: UInt8, name: String) throws -> [[Float]] {
        var rows: [[Float]] = []
        var row: [Float] = []
        var line = 1
        try bytes.withUnsafeBufferPointer { data in
            var i = 0
            while i < data.count {
                let c = data[i]
                if c == 0x0A || c == 0x0D {
                    if !row.isEmpty { rows.append(row); row = [] }
                    if c == 0x0A { line += 1 }
                    i += 1
                } else if c == separator || c == 0x20 || c == 0x09 {
                    i += 1
                } else {
                    let (value, end) = number(data, at: i)
                    guard let value else {
                        throw DatasetError(name, "line \(line): unexpected character '\(Character(Unicode.Scalar(c)))' at byte \(i)")
                    }
                    row.append(value)
                    i = end
                }
            }
        }
        if !row.isEmpty { rows.append(row) }
        return rows
    }

    /// A decimal number `[-+]digits[.digits][e[-+]digits]` starting at `start`.
    private static func number(_ d: UnsafeBufferPointer<UInt8>, at start: Int) -> (Float?, Int) {
        var i = start
        var negative = false
        if d[i] == UInt8(ascii: "-") || d[i] == UInt8(ascii: "+") { negative = d[i] == UInt8(ascii: "-"); i += 1 }
        var mantissa: Double = 0, digits = 0, exponent = 0
        while i < d.count, d[i] >= 0x30, d[i] <= 0x39 { mantissa = mantissa * 10 + Double(d[i] - 0x30); i += 1; digits += 1 }
        if i < d.count, d[i] == UInt8(ascii: ".") {
            i += 1
            while i < d.count, d[i] >= 0x30, d[i] <= 0x39 { mantissa = mantissa * 10 + Double(d[i] - 0x30); i += 1; digits += 1; exponent -= 1 }
        }
        guard digits > 0 else { return (nil, i) }
        if i < d.count, d[i] == UInt8(ascii: "e") || d[i] == UInt8(ascii: "E") {
            var j = i + 1, sign = 1, e = 0, eDigits = 0
            if j < d.count, d[j] == UInt8(ascii: "-") || d[j] == UInt8(ascii: "+") { sign = d[j] == UInt8(ascii: "-") ? -1 : 1; j += 1 }
            while j < d.count, d[j] >= 0x30, d[j] <= 0x39, eDigits < 4 { e = e * 10 + Int(d[j] - 0x30); j += 1; eDigits += 1 }
            if eDigits > 0 { exponent += sign * e; i = j }
        }
        if i < d.count, !(d[i] == 0x20 || d[i] == 0x09 || d[i] == 0x0A || d[i] == 0x0D || d[i] == UInt8(ascii: ",")) { return (nil, i) }
        let value = mantissa * pow(10, Double(exponent))
        return (Float(negative ? -value : value), i)
    }
}
