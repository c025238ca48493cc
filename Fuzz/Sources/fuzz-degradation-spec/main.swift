import Datasets
import FuzzSupport

// Degradation specs (`--degradation`): parsing never traps, and a parsed spec's canonical text
// parses back to the same degradation.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    guard let degradation = try? Degradation(parsing: text) else { return 0 }
    let canonical = degradation.description
    fuzzCheck((try? Degradation(parsing: canonical)) == degradation, "spec '\(text)' → '\(canonical)' does not parse back")
    return 0
}

runFuzzer(fuzzOne)
