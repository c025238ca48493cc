import Datasets
import FuzzSupport

// MNIST IDX files (optionally gzip-compressed): input = images file, "\n==\n", labels file.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let (images, labels) = split(fuzzBytes(data, size), at: Array("\n==\n".utf8))
    let imageURL = scratchFile("images-idx3-ubyte", images), labelURL = scratchFile("labels-idx1-ubyte", labels)
    _ = try? Digits.readIDX(imageURL, expectedRank: 1)
    if let set = try? Digits.mnistIDX(images: imageURL, labels: labelURL) {
        fuzzCheck(set.count == (try? Digits.readIDX(labelURL, expectedRank: 1).dimensions[0]), "MNIST set size differs from its label count")
    }
    return 0
}

runFuzzer(fuzzOne)
