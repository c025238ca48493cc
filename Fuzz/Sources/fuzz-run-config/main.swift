import Foundation
import Training
import FuzzSupport

// Run settings (config files, `settings.json`, and every command-line option's value): the input
// read as a config file (text encodings, duplicate keys, error positions) is layered onto the
// teacher and the distillation defaults; the input as text is read as the value of every option.
// A configuration that validates writes settings that read back equal.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    for option in TrainingConfiguration.options + DistillationConfiguration.options {
        _ = try? option.value(parsing: text, source: "--\(option.key)")
    }
    guard let layer = try? ConfigurationLayer(bytes: bytes, source: "fuzz.json") else { return 0 }
    check(TrainingConfiguration.self, layer)
    check(DistillationConfiguration.self, layer)
    return 0
}

func check<C: RunConfiguration>(_ type: C.Type, _ layer: ConfigurationLayer) {
    guard let configuration = try? C.layered([layer]) else { return }
    let written = try? configuration.jsonData()
    let values = written.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    let again = values.flatMap { try? C.layered([ConfigurationLayer(source: "settings.json", values: $0)]) }
    fuzzCheck(again == configuration, "\(C.self) settings did not read back equal")
}

runFuzzer(fuzzOne)
