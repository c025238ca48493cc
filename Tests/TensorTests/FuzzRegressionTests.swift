import Foundation
import Testing
@testable import Tensor

/// Safetensors inputs found by the fuzz target (fuzz-safetensors), kept inline.
struct SafetensorsFuzzRegressionTests {
    /// A file's U32/U64/I64 maximum reads as a Float that rounds past the type's range, and
    /// writing the file back trapped in the integer conversion. It now writes `max` again.
    @Test func integerMaximumRoundTrips() throws {
        for (dtype, bytes) in [("U32", [UInt8](repeating: 0xFF, count: 4)), ("U64", [UInt8](repeating: 0xFF, count: 8)),
                               ("I64", [UInt8](repeating: 0xFF, count: 7) + [0x7F]), ("I32", [0xFF, 0xFF, 0xFF, 0x7F])] {
            var json = Array(#"{"m":{"dtype":"\#(dtype)","shape":[1],"data_offsets":[0,\#(bytes.count)]}}"#.utf8)
            while json.count % 8 != 0 { json.append(0x20) }
            var file = Data()
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
            file.append(contentsOf: json + bytes)
            let read = try Safetensors(data: file, source: "max.safetensors")
            let encoded = read.encoded()
            #expect([UInt8](encoded.suffix(bytes.count)) == bytes, "\(dtype)")
            #expect(try Safetensors(data: encoded).tensors["m"]?.scalars == read.tensors["m"]?.scalars)
        }
    }

    /// Header limits: a length prefix above the limit, and tensors that claim more bytes than
    /// the file holds, are refused before anything is allocated, naming the file.
    @Test func headerClaimsAreBounded() {
        var huge = Data()
        withUnsafeBytes(of: UInt64(Safetensors.maximumHeaderLength + 1).littleEndian) { huge.append(contentsOf: $0) }
        huge.append(contentsOf: Array("{}      ".utf8))
        #expect(throws: SafetensorsError.self) { _ = try Safetensors(data: huge, source: "huge.safetensors") }
        do {
            _ = try Safetensors(data: huge, source: "huge.safetensors")
        } catch let error as SafetensorsError {
            #expect(error.file == "huge.safetensors" && error.problem.contains("limit"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        var json = Array(#"{"t":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}"#.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var claim = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { claim.append(contentsOf: $0) }
        claim.append(contentsOf: json + [0, 0, 0, 0])
        #expect(throws: SafetensorsError.self) { _ = try Safetensors(data: claim, source: "claim.safetensors") }
    }
}
