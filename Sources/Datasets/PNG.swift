import CPNG

/// PNG through libpng's *simplified* API (`png_image_*`), which reports errors through its
/// return value and message instead of `longjmp`.
///
/// Reading: grey and grey+alpha files become grey images, palette, RGB and RGBA files RGB;
/// alpha is composited onto black. 16-bit files are read as sRGB-encoded (the
/// `PNG_IMAGE_FLAG_16BIT_sRGB` flag) and scaled to 8 bits; files with a `gAMA`/`sRGB` chunk
/// are converted to sRGB by libpng. Writing: 8-bit grey or RGB, no gamma conversion.
public enum PNG {
    /// Decodes PNG bytes; `name` is used in error messages. The header's size is checked
    /// against `limits` before the raster is allocated.
    public static func decode(_ bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw DatasetError(name, "PNG error: \(message(of: &image))") }
        let width = Int(image.width), height = Int(image.height)
        try limits.checkImage(width: width, height: height, name: name)
        // DEFLATE expands at most ~1032:1, so a header claiming more raw bytes than that lies.
        let rawBytes = (width * 8 + 1) * height
        guard rawBytes <= 1100 * bytes.count + (1 << 16) else {
            throw DatasetError(name, "implausible PNG: header claims \(width)x\(height) but the file has only \(bytes.count) bytes")
        }
        let colour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let channels = colour ? 3 : 1
        image.format = colour ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var raster = [UInt8](repeating: 0, count: width * height * channels)
        let finished = raster.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil)
        }
        guard finished != 0 else { throw DatasetError(name, "PNG error: \(message(of: &image))") }
        return raster.withUnsafeBufferPointer { Image(width: width, height: height, channels: channels, interleaved: $0) }
    }

    /// Encodes as an 8-bit grey or RGB PNG (values clamped and rounded).
    public static func encode(_ image: Image, name: String = "PNG") throws -> [UInt8] {
        guard image.width >= 1, image.height >= 1 else { throw DatasetError(name, "cannot encode an empty \(image.width)x\(image.height) image") }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = image.channels == 3 ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        defer { png_image_free(&png) }
        let raster = image.interleavedBytes()
        let stride = Int32(image.width * image.channels)
        var size = 0
        // First call measures, second writes.
        guard raster.withUnsafeBytes({ png_image_write_to_memory(&png, nil, &size, 0, $0.baseAddress, stride, nil) }) != 0 else {
            throw DatasetError(name, "PNG error: \(message(of: &png))")
        }
        var out = [UInt8](repeating: 0, count: size)
        let written = out.withUnsafeMutableBytes { dst in
            raster.withUnsafeBytes { png_image_write_to_memory(&png, dst.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard written != 0 else { throw DatasetError(name, "PNG error: \(message(of: &png))") }
        return Array(out.prefix(size))
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "unknown libpng failure" : text
        }
    }
}
