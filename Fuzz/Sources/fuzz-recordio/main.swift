import Datasets
import FuzzSupport

// MXNet RecordIO: input = `.idx` text, "\n==\n", `.rec` bytes (no separator: the whole input
// is a `.rec` read without an index). Every record is read and its IRHeader unpacked.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let (first, second) = split(bytes, at: Array("\n==\n".utf8))
    let hasIndex = second.count > 0 || first.count < bytes.count
    let rec = scratchFile("data.rec", hasIndex ? second : first)
    let idx = hasIndex ? scratchFile("data.idx", first) : nil
    guard let file = try? RecordIOFile(rec: rec, idx: idx) else { return 0 }
    for key in file.keys {
        guard let payload = try? file.record(key: key) else { continue }
        if let (header, image) = try? RecordIO.unpack(payload, name: "record \(key)") {
            fuzzCheck(RecordIO.pack(header, image) == payload, "RecordIO unpack/pack of record \(key) is not the identity")
        }
    }
    return 0
}

runFuzzer(fuzzOne)
