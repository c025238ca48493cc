// swift-tools-version: 6.0
import PackageDescription
import Foundation

// libFuzzer targets for every parser a user's file or string reaches (Docs/Reliability.md).
// Build: scripts/fuzz.sh (swift build -c release -Xswiftc -sanitize=fuzzer,address).
// The root package is a path dependency; its identity is its folder's name.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

/// One fuzz target: `Sources/<name>/main.swift`, linked with the modules it parses for.
func fuzzTarget(_ name: String, _ modules: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + modules.map { .product(name: $0, package: root) })
}

let package = Package(
    name: "CrossResFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzTarget("fuzz-pnm", ["Datasets"]),
        fuzzTarget("fuzz-png", ["Datasets"]),
        fuzzTarget("fuzz-jpeg", ["Datasets"]),
        fuzzTarget("fuzz-recordio", ["Datasets"]),
        fuzzTarget("fuzz-pickle", ["Datasets"]),
        fuzzTarget("fuzz-idx", ["Datasets"]),
        fuzzTarget("fuzz-digits-text", ["Datasets"]),
        fuzzTarget("fuzz-gzip", ["Datasets"]),
        fuzzTarget("fuzz-degradation-spec", ["Datasets"]),
        fuzzTarget("fuzz-safetensors", ["Tensor"]),
        fuzzTarget("fuzz-transfer-spec", ["Tensor", "Losses"]),
        fuzzTarget("fuzz-run-config", ["Training"]),
        fuzzTarget("fuzz-study-config", ["Datasets", "Losses", "Training"]),
        fuzzTarget("fuzz-arguments", ["Training"]),
        .executableTarget(name: "fuzz-seeds", dependencies: ["Tensor", "Datasets", "Training"].map { .product(name: $0, package: root) }),
    ]
)
