import Foundation
import Training
import FuzzSupport

// Command lines (`crossres distill …`, `crossres demo …`): the input split at NUL bytes is the
// argument vector; parsing it, reading every option and layering a configuration never traps.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var arguments = fuzzBytes(data, size).split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    // The argument after `--config` is the file's content, written to a scratch file (so no
    // input can name /dev/zero or another file of the machine).
    for i in arguments.indices.dropLast() where arguments[i] == "--config" {
        arguments[i + 1] = scratchFile("config-\(i).json", Array(arguments[i + 1].utf8)).path
    }
    let distill = DistillationConfiguration.options + [ConfigurationOption("distributed", .flag, "", "data-parallel")]
    let demo = [ConfigurationOption("quick", .flag, "", "quick"), ConfigurationOption("seeds", .integerList, "LIST", "seeds"),
                ConfigurationOption("config", .text, "FILE", "a study configuration"), ConfigurationOption("output", .text, "DIR", "run folder")]
    for options in [distill, demo] {
        guard let invocation = try? Invocation(arguments, options: options, help: "") else { continue }
        for option in options {
            _ = try? invocation.string(option.key)
            _ = try? invocation.integer(option.key)
            _ = try? invocation.bool(option.key)
            _ = try? invocation.seeds(option.key)
        }
        if options.count > demo.count {
            _ = try? DistillationConfiguration.layered(invocation.layers(keeping: DistillationConfiguration.keys))
        }
    }
    return 0
}

runFuzzer(fuzzOne)
