import Foundation
import TestSupport

/// Runs a Python 3 script that prints a JSON fixture, for reference values computed by numpy and
/// scikit-learn at test time (through TestSupport's `Python`; tests that use it are disabled
/// with `Python.has`).
///
/// Scripts print with `emit(dict)`, which writes every float as its `repr` string: Foundation's
/// JSON number parser is not correctly rounded, `Double(String)` is, so values arrive bit-exact.
enum PythonFixture {
    private static let prelude = """
    import json
    def _exact(x):
        if isinstance(x, float): return repr(float(x))
        if isinstance(x, (list, tuple)): return [_exact(v) for v in x]
        if isinstance(x, dict): return {k: _exact(v) for k, v in x.items()}
        return x
    def emit(obj): print(json.dumps(_exact(obj)))

    """

    /// The JSON object printed by `script`.
    static func run(_ script: String) throws -> [String: Any] {
        let output = try Python.run(prelude + script)
        guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] else {
            throw FixtureError(message: "the script did not print a JSON object")
        }
        return object
    }

    struct FixtureError: Error { let message: String }
}

extension Dictionary where Key == String, Value == Any {
    func doubles(_ key: String) -> [Double] { (self[key] as! [Any]).map(Self.exactDouble) }
    func bools(_ key: String) -> [Bool] { (self[key] as! [Any]).map { ($0 as! NSNumber).boolValue } }
    func ints(_ key: String) -> [Int] { (self[key] as! [Any]).map { ($0 as! NSNumber).intValue } }
    func double(_ key: String) -> Double { Self.exactDouble(self[key]!) }

    private static func exactDouble(_ value: Any) -> Double {
        if let text = value as? String { return Double(text)! }
        return (value as! NSNumber).doubleValue
    }
}
