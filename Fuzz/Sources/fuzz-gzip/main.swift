import Datasets
import FuzzSupport

// gzip and raw DEFLATE (the pure-Swift inflater behind `.gz` data sets), output capped at 1 MiB.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let limit = 1 << 20
    if let out = try? Inflate.gunzip(bytes, name: "fuzz.gz", limit: limit) {
        fuzzCheck(out.count <= limit, "gunzip produced \(out.count) bytes past the \(limit)-byte limit")
    }
    if let out = try? Inflate.inflate(bytes, name: "fuzz.deflate", limit: limit) {
        fuzzCheck(out.count <= limit, "inflate produced \(out.count) bytes past the \(limit)-byte limit")
    }
    return 0
}

runFuzzer(fuzzOne)
