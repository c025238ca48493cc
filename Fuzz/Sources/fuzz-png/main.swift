import Datasets
import FuzzSupport

// PNG through libpng: decoding never traps; a decoded (8-bit) image survives an encode and
// decode unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let image = try? PNG.decode(fuzzBytes(data, size), name: "fuzz.png") else { return 0 }
    let again = try? PNG.decode(PNG.encode(image), name: "re-encoded")
    fuzzCheck(again == image, "PNG re-encode of a \(image.width)x\(image.height)x\(image.channels) image changed it")
    return 0
}

runFuzzer(fuzzOne)
