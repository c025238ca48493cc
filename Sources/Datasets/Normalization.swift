import Tensor

/// The affine map from pixel values in `0...255` to network inputs: `(x − mean) / divisor`.
///
/// The default is insightface's `(x − 127.5) / 128` (`recognition/arcface_torch`), which maps
/// `0...255` to about `[−1, 1]`.
public struct Normalization: Sendable, Equatable, Codable {
    public var mean: Float
    public var divisor: Float

    public init(mean: Float = 127.5, divisor: Float = 128) {
        precondition(divisor != 0, "Normalization: divisor must not be 0")
        self.mean = mean
        self.divisor = divisor
    }

    /// `(x − 127.5) / 128`.
    public static let insightface = Normalization()
    /// `x / 255`, to `[0, 1]`.
    public static let unit = Normalization(mean: 0, divisor: 255)
    /// The raw `0...255` values.
    public static let identity = Normalization(mean: 0, divisor: 1)

    /// The pixel value of a normalised input: `y · divisor + mean`.
    public func pixelValue(_ y: Float) -> Float { y * divisor + mean }
}

extension Image {
    /// The normalised image as a `[channels, height, width]` tensor.
    public func tensor(_ normalization: Normalization = .insightface) -> Tensor {
        Image.batchTensor([self], normalization).reshaped(to: [channels, height, width])
    }

    /// Images of one size and channel count as an NCHW `[N, C, H, W]` tensor.
    public static func batchTensor(_ images: [Image], _ normalization: Normalization = .insightface) -> Tensor {
        precondition(!images.isEmpty, "Image.batchTensor: no images")
        let first = images[0]
        for (i, image) in images.enumerated() {
            precondition(image.width == first.width && image.height == first.height && image.channels == first.channels,
                         "Image.batchTensor: image \(i) is \(image.width)x\(image.height)x\(image.channels), image 0 is \(first.width)x\(first.height)x\(first.channels)")
        }
        let (shape, storage) = batchStorage(images, normalization)
        return Tensor(shape: shape, storage: storage)
    }

    /// The shape and storage of ``batchTensor(_:_:)`` (images checked by the caller), for a
    /// batch built off the thread that makes its tensor.
    static func batchStorage(_ images: [Image], _ normalization: Normalization) -> (shape: [Int], storage: TensorStorage) {
        let first = images[0], storage = TensorStorage(count: images.count * first.count)
        for (i, image) in images.enumerated() { image.write(into: storage.base + i * first.count, normalization) }
        return ([images.count, first.channels, first.height, first.width], storage)
    }

    /// Writes the normalised planar values to `destination` (which must have room for ``count``).
    func write(into destination: UnsafeMutablePointer<Float>, _ normalization: Normalization) {
        let scale = 1 / normalization.divisor, shift = -normalization.mean / normalization.divisor
        pixels.withUnsafeBufferPointer { src in
            for i in 0..<count { destination[i] = src[i] * scale + shift }
        }
    }

    /// An image from a `[C, H, W]` (or `[1, C, H, W]`) tensor of normalised values; values are
    /// mapped back by ``Normalization/pixelValue(_:)``.
    public init(_ tensor: Tensor, _ normalization: Normalization = .insightface) {
        let shape = tensor.rank == 4 && tensor.shape[0] == 1 ? Array(tensor.shape.dropFirst()) : tensor.shape
        precondition(shape.count == 3 && (shape[0] == 1 || shape[0] == 3),
                     "Image(tensor): expected [C, H, W] with C 1 or 3, got shape \(tensor.shape)")
        self = tensor.withUnsafeBufferPointer { src in
            Image(width: shape[2], height: shape[1], channels: shape[0]) { out in
                for i in 0..<out.count { out[i] = normalization.pixelValue(src[i]) }
            }
        }
    }
}
