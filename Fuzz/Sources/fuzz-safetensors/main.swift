import Foundation
import Tensor
import FuzzSupport

// safetensors: reading never traps or over-allocates; a file that reads re-encodes (in the
// dtypes it had) to one that reads to the same shapes and metadata.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let file = try? Safetensors(data: Data(fuzzBytes(data, size)), source: "fuzz.safetensors") else { return 0 }
    let again = try? Safetensors(data: file.encoded(), source: "re-encoded")
    fuzzCheck(again.map { $0.tensors.mapValues(\.shape) == file.tensors.mapValues(\.shape) && $0.metadata == file.metadata } ?? false,
              "safetensors re-encode of \(file.tensors.count) tensors did not read back")
    return 0
}

runFuzzer(fuzzOne)
