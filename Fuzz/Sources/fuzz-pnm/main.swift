import Datasets
import FuzzSupport

// PGM/PPM (P2, P3, P5, P6): decoding never traps; a decoded image re-encodes and decodes to
// the same size.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let image = try? PNM.decode(fuzzBytes(data, size), name: "fuzz.pnm") else { return 0 }
    let again = try? PNM.decode(PNM.encode(image), name: "re-encoded")
    fuzzCheck(again.map { ($0.width, $0.height, $0.channels) == (image.width, image.height, image.channels) } ?? false,
              "PNM re-encode of a \(image.width)x\(image.height)x\(image.channels) image did not decode to its size")
    return 0
}

runFuzzer(fuzzOne)
