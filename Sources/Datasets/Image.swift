import Tensor

/// A float image: `channels` planes (1 = grey, 3 = RGB) of `height` rows of `width` pixels.
///
/// Pixels are **planar** (channel-major, `CHW`), so an image is one sample of an NCHW tensor
/// with no reshuffling: the value of channel `c` at column `x`, row `y` is
/// `pixels[(c * height + y) * width + x]`. Values are in `0...255` (the 8-bit range, kept as
/// floats so that resizing, blurring and noise do not round); decoders produce that range and
/// encoders clamp to it and round to the nearest integer.
public struct Image: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `channels × height × width` values, planar, in `0...255`.
    public private(set) var pixels: [Float]

    /// Decoders refuse images with a side longer than this (a lying header cannot make them
    /// allocate more).
    public static let maximumSide = 32_768
    /// Decoders refuse images with more pixels than this (2²⁵, e.g. 8192 × 4096).
    public static let maximumPixelCount = 1 << 25

    /// An image over existing planar pixels.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0, "Image: negative size \(width)x\(height)")
        precondition(channels == 1 || channels == 3, "Image: channels must be 1 or 3, got \(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(width)x\(height)x\(channels) needs \(width * height * channels) values, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image of one colour (`value` in every channel).
    public init(width: Int, height: Int, channels: Int, value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: value, count: max(0, width * height * channels)))
    }

    /// A new image whose planar pixels are written by `body`, which must set every value.
    @inlinable
    public init(width: Int, height: Int, channels: Int,
                initializingWith body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        precondition(width >= 0 && height >= 0, "Image: negative size \(width)x\(height)")
        precondition(channels == 1 || channels == 3, "Image: channels must be 1 or 3, got \(channels)")
        let values = try [Float](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            try body(buffer)
            count = width * height * channels
        }
        self.init(width: width, height: height, channels: channels, pixels: values)
    }

    /// An image from 8-bit *interleaved* samples (`RGBRGB…` or grey), the layout codecs use.
    public init(width: Int, height: Int, channels: Int, interleaved bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count == width * height * channels,
                     "Image(interleaved:): \(width)x\(height)x\(channels) needs \(width * height * channels) bytes, got \(bytes.count)")
        let plane = width * height
        self.init(width: width, height: height, channels: channels) { out in
            let src = bytes.baseAddress!, dst = out.baseAddress!
            for c in 0..<channels {
                let target = dst + c &* plane
                for i in 0..<plane { target[i] = Float(src[i &* channels &+ c]) }
            }
        }
    }

    /// Number of values (`channels × height × width`).
    public var count: Int { pixels.count }

    /// The value of `channel` at column `x`, row `y`: `image[x, y, channel]`.
    public subscript(x: Int, y: Int, channel: Int) -> Float {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                         "Image subscript: (\(x), \(y), c\(channel)) outside \(width)x\(height)x\(channels)")
            return pixels[(channel * height + y) * width + x]
        }
        set {
            precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                         "Image subscript: (\(x), \(y), c\(channel)) outside \(width)x\(height)x\(channels)")
            pixels[(channel * height + y) * width + x] = newValue
        }
    }

    /// Read-only access to the planar values.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try pixels.withUnsafeBufferPointer(body)
    }

    /// Write access to the planar values.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try pixels.withUnsafeMutableBufferPointer(body)
    }

    /// 8-bit interleaved samples: each value clamped to `0...255` and rounded to nearest.
    public func interleavedBytes() -> [UInt8] {
        let plane = width * height
        return [UInt8](unsafeUninitializedCapacity: count) { out, written in
            pixels.withUnsafeBufferPointer { src in
                for c in 0..<channels {
                    let source = src.baseAddress! + c &* plane
                    for i in 0..<plane { out[i &* channels &+ c] = Image.byte(source[i]) }
                }
            }
            written = count
        }
    }

    /// `v` clamped to `0...255` and rounded half away from zero.
    @inlinable
    static func byte(_ v: Float) -> UInt8 {
        v.isNaN ? 0 : UInt8(min(max(v, 0), 255).rounded(.toNearestOrAwayFromZero))
    }

    /// The values rounded to whole numbers in `0...255` (what an 8-bit file would hold).
    public func quantized() -> Image {
        var out = self
        out.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices { buffer[i] = Float(Image.byte(buffer[i])) }
        }
        return out
    }

    // MARK: Grey and RGB

    /// Grey by ITU-R BT.601 luma, `Y = 0.299 R + 0.587 G + 0.114 B` (the weights of Pillow's
    /// `convert("L")`, without its 8-bit rounding). A grey image is returned unchanged.
    public func grey() -> Image {
        guard channels == 3 else { return self }
        let plane = width * height
        return pixels.withUnsafeBufferPointer { src in
            Image(width: width, height: height, channels: 1) { out in
                let r = src.baseAddress!, g = r + plane, b = g + plane
                for i in 0..<plane { out[i] = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i] }
            }
        }
    }

    /// RGB with the grey plane copied to all three channels. An RGB image is returned unchanged.
    public func rgb() -> Image {
        guard channels == 1 else { return self }
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    /// This image with `channels` channels (1 → ``grey()``, 3 → ``rgb()``).
    public func converted(toChannels channels: Int) -> Image {
        precondition(channels == 1 || channels == 3, "Image.converted(toChannels:): channels must be 1 or 3, got \(channels)")
        return channels == 1 ? grey() : rgb()
    }
}

extension Image: CustomStringConvertible {
    /// `Image(WxHxC)`: the size, not the pixels (a printed data set or split stays readable).
    public var description: String { "Image(\(width)x\(height)x\(channels))" }
}
