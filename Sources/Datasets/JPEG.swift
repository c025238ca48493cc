import CTurboJPEG
import Tensor

/// JPEG through the TurboJPEG API (`tjDecompressHeader3`, `tjDecompress2`, `tjCompress2`),
/// which returns error codes instead of `longjmp`.
///
/// Decoding uses the accurate integer DCT and fancy upsampling (libjpeg's defaults, the same
/// as Pillow), so pixels equal Pillow's. Grey JPEGs become grey images, everything else RGB.
/// Warnings such as "premature end of data" (a truncated file) are treated as errors.
/// Encoding: grey, or RGB with 4:2:0 chroma subsampling (Pillow's default), at a quality 1…100.
public enum JPEG {
    /// Decodes JPEG bytes; `name` is used in error messages. The header's size is checked
    /// against `limits` before the raster is allocated.
    public static func decode(_ bytes: [UInt8], name: String, limits: ParserLimits = .standard) throws -> Image {
        guard let handle = tjInitDecompress() else { throw DatasetError(name, "cannot create a TurboJPEG decompressor") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let headerStatus = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colourspace)
        }
        guard headerStatus == 0 else { throw DatasetError(name, "JPEG error: \(errorText(handle))") }
        let w = Int(width), h = Int(height)
        try limits.checkImage(width: w, height: h, name: name)
        // Even optimally coded, a JPEG spends bits on every 8×8 block; far more pixels than
        // this per byte means a lying header.
        guard w * h <= 2048 * bytes.count + (1 << 20) else {
            throw DatasetError(name, "implausible JPEG: header claims \(w)x\(h) but the file has only \(bytes.count) bytes")
        }
        let grey = colourspace == Int32(TJCS_GRAY.rawValue)
        let channels = grey ? 1 : 3
        let format = grey ? TJPF_GRAY : TJPF_RGB
        var raster = [UInt8](repeating: 0, count: w * h * channels)
        let status = raster.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer {
                tjDecompress2(handle, $0.baseAddress, UInt($0.count), dst.baseAddress, width, Int32(w * channels), height,
                              Int32(format.rawValue), TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS | TJFLAG_STOPONWARNING)
            }
        }
        guard status == 0 else { throw DatasetError(name, "JPEG error: \(errorText(handle))") }
        return raster.withUnsafeBufferPointer { Image(width: w, height: h, channels: channels, interleaved: $0) }
    }

    /// Encodes at `quality` (1…100; values are clamped and rounded first).
    public static func encode(_ image: Image, quality: Int = 95, name: String = "JPEG") throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw DatasetError(name, "JPEG quality \(quality) outside 1...100") }
        guard image.width >= 1, image.height >= 1 else { throw DatasetError(name, "cannot encode an empty \(image.width)x\(image.height) image") }
        guard let handle = tjInitCompress() else { throw DatasetError(name, "cannot create a TurboJPEG compressor") }
        defer { tjDestroy(handle) }
        let raster = image.interleavedBytes()
        let grey = image.channels == 1
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        defer { if let output { tjFree(output) } }
        let status = raster.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(image.width), Int32(image.width * image.channels), Int32(image.height),
                        Int32((grey ? TJPF_GRAY : TJPF_RGB).rawValue), &output, &size,
                        Int32((grey ? TJSAMP_GRAY : TJSAMP_420).rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        guard status == 0, let output else { throw DatasetError(name, "JPEG error: \(errorText(handle))") }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func errorText(_ handle: tjhandle) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown TurboJPEG failure" }
        return String(cString: text)
    }
}

extension Image {
    /// The image after a JPEG encode–decode round trip at `quality` 1…100 (compression
    /// artefacts: blocking, ringing, chroma loss). Values are quantised to 8 bits on the way.
    public func jpegRecompressed(quality: Int) -> Image {
        precondition((1...100).contains(quality), "Image.jpegRecompressed: quality \(quality) outside 1...100")
        do {
            return try JPEG.decode(try JPEG.encode(self, quality: quality), name: "JPEG round trip")
        } catch {
            preconditionFailure("Image.jpegRecompressed: TurboJPEG failed on a valid \(width)x\(height)x\(channels) image: \(error)")
        }
    }
}
