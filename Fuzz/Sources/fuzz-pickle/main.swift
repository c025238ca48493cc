import Datasets
import FuzzSupport

// insightface verification `.bin` (a pickle subset): parsing never traps, hangs or
// over-allocates; a parsed set writes back to a pickle that reads as the same set.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let set = try? VerificationBin(bytes: fuzzBytes(data, size), name: "fuzz.bin") else { return 0 }
    let again = try? VerificationBin(bytes: set.encoded(), name: "re-encoded")
    fuzzCheck(again.map { $0.images == set.images && $0.isSame == set.isSame } ?? false,
              "verification set of \(set.pairCount) pairs did not survive a write and read")
    _ = set.pairList()
    return 0
}

runFuzzer(fuzzOne)
