import Foundation
import Datasets
import Losses
import Training
import FuzzSupport

// The cross-resolution study's JSON configuration: decoding, validation, and parsing the
// degradation and every family's transfer spec as a run does never trap.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let configuration = try? JSONDecoder().decode(CrossResolutionStudy.Configuration.self, from: Data(fuzzBytes(data, size))) else {
        return 0
    }
    guard (try? configuration.validate()) != nil else { return 0 }
    _ = try? Degradation(parsing: configuration.trainingView)
    let losses = TransferLossConfiguration(studentEmbeddingDimension: 8, classes: 5, featureMap: configuration.featureMap)
    for family in configuration.families where !family.transfer.isEmpty {
        _ = try? TransferSpec.parse(family.transfer, configuration: losses)
    }
    return 0
}

runFuzzer(fuzzOne)
