import Datasets
import FuzzSupport

// JPEG through TurboJPEG: decoding never traps; a decoded image re-encodes and decodes to the
// same size.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let image = try? JPEG.decode(fuzzBytes(data, size), name: "fuzz.jpg") else { return 0 }
    let again = try? JPEG.decode(JPEG.encode(image, quality: 90), name: "re-encoded")
    fuzzCheck(again.map { ($0.width, $0.height, $0.channels) == (image.width, image.height, image.channels) } ?? false,
              "JPEG re-encode of a \(image.width)x\(image.height)x\(image.channels) image did not decode to its size")
    return 0
}

runFuzzer(fuzzOne)
