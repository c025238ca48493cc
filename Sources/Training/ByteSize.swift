import Foundation

/// Sizes in bytes as people write them (`6GiB`, `512MiB`, `1.5GB`, `1000000`) and as errors
/// show them.
public enum ByteSize {
    /// Why a text is not a size.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The units, case-insensitive: powers of 1000 (`kB`, `MB`, `GB`, `TB`) and of 1024 (`KiB`,
    /// `MiB`, `GiB`, `TiB`); no unit or `B` is bytes.
    static let units: [String: Int] = [
        "": 1, "b": 1, "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    ]

    /// The bytes `text` names: a whole or decimal number and a unit (fractions of a byte are
    /// dropped). Throws for text that is not a size, a size below one byte, and one past `Int.max`.
    public static func bytes(parsing text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }
        let unit = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        guard let scale = units[unit.lowercased()] else {
            throw ParseError(description: "unknown unit '\(unit)' (use B, kB, MB, GB, TB or KiB, MiB, GiB, TiB: 6G is ambiguous, write 6GB or 6GiB)")
        }
        guard let value = Double(number), value.isFinite else { throw ParseError(description: "'\(trimmed)' is not a number and a unit") }
        guard value > 0 else { throw ParseError(description: "a size must be positive") }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 1 || parts[1].allSatisfy(\.isNumber) else { throw ParseError(description: "'\(trimmed)' is not a number and a unit") }
        let tooLarge = ParseError(description: "more than \(describe(Int.max)), the largest size")
        guard let whole = parts[0].isEmpty || parts[0] == "+" ? 0 : Int(parts[0]) else { throw tooLarge }
        let fraction = parts.count == 2 ? Int(((Double("0." + parts[1] + "0") ?? 0) * Double(scale)).rounded(.down)) : 0
        let product = whole.multipliedReportingOverflow(by: scale)
        let sum = product.partialValue.addingReportingOverflow(fraction)
        guard !product.overflow, !sum.overflow else { throw tooLarge }
        guard sum.partialValue >= 1 else { throw ParseError(description: "less than one byte") }
        return sum.partialValue
    }

    /// `bytes` in GB, MB or kB (powers of 1000, one decimal) or bytes.
    public static func describe(_ bytes: Int) -> String {
        let value = Double(bytes)
        for (unit, scale) in [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)] where value >= scale {
            return String(format: "%.1f %@", value / scale, unit)
        }
        return "\(bytes) bytes"
    }
}
