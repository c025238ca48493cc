import Foundation

/// The libFuzzer entry point's type: `int LLVMFuzzerTestOneInput(const uint8_t *, size_t)`.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                                 _ callback: FuzzCallback) -> CInt

/// Runs libFuzzer on `callback` with the process's arguments and exits with its status.
///
/// SwiftPM links an executable's `main` to the module's top-level code, so libFuzzer's own
/// `main` is not used; the top-level code hands over to libFuzzer's driver instead.
public func runFuzzer(_ callback: FuzzCallback) -> Never {
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}

/// The input as an array (empty for a null pointer).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The input split at the first occurrence of `separator` (the whole input and an empty part
/// when it does not occur), for targets that read two files.
public func split(_ bytes: [UInt8], at separator: [UInt8]) -> ([UInt8], [UInt8]) {
    guard bytes.count >= separator.count else { return (bytes, []) }
    for i in 0...(bytes.count - separator.count) where bytes[i..<(i + separator.count)].elementsEqual(separator) {
        return (Array(bytes[..<i]), Array(bytes[(i + separator.count)...]))
    }
    return (bytes, [])
}

/// A per-process scratch folder in memory-backed storage when there is one (`/dev/shm`), for
/// targets whose parser reads files.
public let fuzzScratch: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let url = URL(fileURLWithPath: base).appendingPathComponent("crossres-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

/// Writes `bytes` to `name` in ``fuzzScratch`` and returns its URL.
public func scratchFile(_ name: String, _ bytes: [UInt8]) -> URL {
    let url = fuzzScratch.appendingPathComponent(name)
    _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
    return url
}

/// Stops the run with a message when a property the target checks does not hold (a finding
/// just like a crash).
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        FileHandle.standardError.write(Data("fuzz property failed: \(message())\n".utf8))
        abort()
    }
}
