import Tensor
import Losses
import FuzzSupport

// Transfer-loss specs (`--transfer`): parsing and building the losses never traps or
// allocates without bound.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let configuration = TransferLossConfiguration(studentEmbeddingDimension: 8, classes: 5, featureMap: "stage2")
    _ = try? TransferSpec.parse(text, configuration: configuration)
    let unequal = TransferLossConfiguration(studentEmbeddingDimension: 8, teacherEmbeddingDimension: 16)
    _ = try? TransferSpec.parse(text, configuration: unequal)
    return 0
}

runFuzzer(fuzzOne)
