import Foundation

/// The text form of a ``Degradation``: comma-separated `key=value` tokens.
///
/// ```
/// spec    := "" | "none" | token ("," token)*
/// token   := key "=" value
/// value   := number | number ".." number | number ("|" number)+      (numeric keys)
///            (two dots; an end like `.5` is refused, so `0...2` is an error, not 0…0.2)
/// size    := int 1…5792       shorter side after down-sampling   (excludes scale)
/// scale   := float 1…4096     down-sampling factor                (excludes size)
/// interp  := nearest | bilinear | bicubic | area                  (default bicubic)
/// antialias := true | false                                       (default true)
/// up      := hr | int 1…5792  up-sample back to the HR size or to a shorter side
/// upinterp := nearest | bilinear | bicubic | area                 (default: interp)
/// blur    := float 0…100      Gaussian σ in HR pixels
/// noise   := float 0…255      Gaussian noise σ in levels 0…255
/// jpeg    := int 1…100        JPEG quality
/// occlude := float 0…1        occluded fraction of each side
/// p       := float 0…1        probability of degrading a sample   (default 1)
/// ```
///
/// `size` and `up` are at most ``maximumSpecSide`` (5792), the side of the largest square within
/// ``Image/maximumPixelCount``: a spec cannot ask for a square view over the limit the decoders
/// enforce (`up=32768` would allocate 12.9 GB per RGB image and die of memory, not of an error).
extension Degradation: CustomStringConvertible {
    /// The keys ``init(parsing:)`` understands.
    public static let specKeys = ["size", "scale", "interp", "antialias", "up", "upinterp", "blur", "noise", "jpeg", "occlude", "p"]

    /// The largest `size` and `up` a spec accepts: the side of the largest square image with at
    /// most ``Image/maximumPixelCount`` pixels (⌊√2²⁵⌋ = 5792).
    public static let maximumSpecSide: Int = {
        var side = Int(Double(Image.maximumPixelCount).squareRoot())
        while side * side > Image.maximumPixelCount { side -= 1 }
        while (side + 1) * (side + 1) <= Image.maximumPixelCount { side += 1 }
        return side
    }()

    /// Why `size` and `up` stop at ``maximumSpecSide``, for the error messages.
    private static var sideLimitNote: String {
        "(a \(maximumSpecSide)×\(maximumSpecSide) image is the largest square within the image limit of \(Image.maximumPixelCount) pixels, Image.maximumPixelCount)"
    }

    /// Parses a spec such as `size=8..32,interp=bicubic,blur=0..1.2,jpeg=30..90,up=112`.
    /// Errors name the offending token and, for an unknown key, list the known ones.
    public init(parsing spec: String) throws {
        self.init()
        let source = "degradation spec '\(spec)'"
        let text = spec.trimmingCharacters(in: .whitespaces)
        if text.isEmpty || text == "none" { return }
        var seen: Set<String> = []
        for rawToken in text.split(separator: ",", omittingEmptySubsequences: false) {
            let token = rawToken.trimmingCharacters(in: .whitespaces)
            let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw DatasetError(source, "token '\(token)' is not key=value; known keys: \(Self.specKeys.joined(separator: ", "))")
            }
            let key = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard Self.specKeys.contains(key) else {
                throw DatasetError(source, "unknown key '\(key)' in token '\(token)'; known keys: \(Self.specKeys.joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw DatasetError(source, "key '\(key)' given twice (token '\(token)')") }
            let fail = { (why: String) in DatasetError(source, "token '\(token)': \(why)") }
            switch key {
            case "size":
                guard !seen.contains("scale") else { throw fail("size and scale exclude each other") }
                target = .size(try Self.sampled(value, Int.init, within: 1...Self.maximumSpecSide, note: Self.sideLimitNote, fail))
            case "scale":
                guard !seen.contains("size") else { throw fail("size and scale exclude each other") }
                target = .scale(try Self.sampled(value, Float.init, within: 1...4096, fail))
            case "interp":
                interpolation = try Self.interpolation(value, fail)
            case "upinterp":
                upInterpolation = try Self.interpolation(value, fail)
            case "antialias":
                guard let flag = Bool(value.lowercased()) else { throw fail("'\(value)' is not true or false") }
                antialias = flag
            case "up":
                if value.lowercased() == "hr" {
                    up = .original
                } else if let side = Int(value), side >= 1, side <= Self.maximumSpecSide {
                    up = .size(side)
                } else {
                    throw fail("'\(value)' is neither 'hr' nor a size 1...\(Self.maximumSpecSide) \(Self.sideLimitNote)")
                }
            case "blur": blur = try Self.sampled(value, Float.init, within: 0...100, fail)
            case "noise": noise = try Self.sampled(value, Float.init, within: 0...255, fail)
            case "jpeg": jpeg = try Self.sampled(value, Int.init, within: 1...100, fail)
            case "occlude": occlusion = try Self.sampled(value, Float.init, within: 0...1, fail)
            default:
                guard let p = Float(value), (0...1).contains(p) else { throw fail("'\(value)' is not a probability in 0...1") }
                probability = p
            }
        }
    }

    private static func interpolation(_ value: String, _ fail: (String) -> DatasetError) throws -> Interpolation {
        guard let filter = Interpolation(rawValue: value.lowercased()) else {
            throw fail("unknown interpolation '\(value)'; use \(Interpolation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return filter
    }

    private static func sampled<V: Comparable & Sendable>(_ value: String, _ parse: (String) -> V?, within bounds: ClosedRange<V>,
                                                         note: String? = nil, _ fail: (String) -> DatasetError) throws -> Sampled<V> {
        func number(_ text: Substring) throws -> V {
            guard let v = parse(String(text).trimmingCharacters(in: .whitespaces)) else {
                throw fail("'\(text)' is not a \(V.self == Int.self ? "whole number" : "number")")
            }
            guard bounds.contains(v) else {
                throw fail("\(v) is outside \(bounds.lowerBound)...\(bounds.upperBound)" + (note.map { " " + $0 } ?? ""))
            }
            return v
        }
        if value.contains("..") {
            // `0...2` would split into "0" and ".2" (0…0.2): an end starting or ending with a dot is refused.
            let ends = value.components(separatedBy: "..").map { $0.trimmingCharacters(in: .whitespaces) }
            guard ends.count == 2, !ends.contains(where: { $0.hasPrefix(".") || $0.hasSuffix(".") }) else {
                throw fail("'\(value)' is not a range: ranges are written lo..hi with two dots (0..2, 0.5..1.5; write 0.5, not .5 or 5.)")
            }
            let lo = try number(Substring(ends[0])), hi = try number(Substring(ends[1]))
            guard lo <= hi else { throw fail("range \(lo)..\(hi) is empty") }
            return lo == hi ? .fixed(lo) : .range(lo...hi)
        }
        if value.contains("|") {
            return .choice(try value.split(separator: "|", omittingEmptySubsequences: false).map(number))
        }
        return .fixed(try number(Substring(value)))
    }

    /// The canonical spec text. Parsing it gives back an equal value when the value came from
    /// ``init(parsing:)``, and for any value within the spec's limits an equivalent one — the same
    /// degradation of every image, drawing the same random numbers: a range `x...x` or a choice
    /// of one value comes back as `.fixed(x)` (none of them consumes randomness, see
    /// ``Sampled``), a probability above 1 as 1.
    public var description: String {
        var tokens: [String] = []
        switch target {
        case .size(let s)?: tokens.append("size=\(s)")
        case .scale(let s)?: tokens.append("scale=\(s)")
        case nil: break
        }
        if target != nil || up != nil || interpolation != .bicubic { tokens.append("interp=\(interpolation.rawValue)") }
        if !antialias { tokens.append("antialias=false") }
        if let blur { tokens.append("blur=\(blur)") }
        if let noise { tokens.append("noise=\(noise)") }
        if let jpeg { tokens.append("jpeg=\(jpeg)") }
        if let occlusion { tokens.append("occlude=\(occlusion)") }
        switch up {
        case .original?: tokens.append("up=hr")
        case .size(let side)?: tokens.append("up=\(side)")
        case nil: break
        }
        if let upInterpolation { tokens.append("upinterp=\(upInterpolation.rawValue)") }
        if probability < 1 { tokens.append("p=\(probability)") }
        return tokens.isEmpty ? "none" : tokens.joined(separator: ",")
    }
}
