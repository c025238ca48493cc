import Foundation

/// Python 3 for reference fixtures generated at test time (numpy, pillow, scikit-learn,
/// safetensors). Tests that need it are disabled with a message when `python3` or a module is
/// missing: `@Test(.enabled(if: Python.has("numpy", "sklearn"), "…"))`.
public enum Python {
    /// Whether `python3` can import every module in `modules`.
    public static func has(_ modules: String...) -> Bool {
        (try? run("import " + modules.joined(separator: ", "))) != nil
    }

    /// Runs `script` with `arguments` (`sys.argv[1...]`) in `directory` and returns its
    /// standard output; a non-zero exit throws a ``Failure`` carrying its standard error.
    @discardableResult
    public static func run(_ script: String, arguments: [String] = [], in directory: URL? = nil) throws -> String {
        let result = try Subprocess.run("python3", ["-c", script] + arguments, in: directory)
        guard result.status == 0 else { throw Failure(status: result.status, message: result.errors) }
        return result.output
    }

    /// A fixture script that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int32
        public let message: String
        public var description: String { "python3 exited with status \(status):\n\(message)" }
    }
}
