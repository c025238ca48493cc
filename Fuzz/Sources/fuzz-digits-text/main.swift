import Datasets
import FuzzSupport

// Text digit tables: the first byte picks USPS (0), MNIST CSV with 28×28 (1) or 2×2 rows (2);
// the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    guard let mode = bytes.first else { return 0 }
    let url = scratchFile("digits.txt", Array(bytes.dropFirst()))
    switch mode % 3 {
    case 0: _ = try? Digits.usps(url)
    case 1: _ = try? Digits.mnistCSV(url)
    default: _ = try? Digits.mnistCSV(url, side: 2)
    }
    return 0
}

runFuzzer(fuzzOne)
