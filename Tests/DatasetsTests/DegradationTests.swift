import Testing
import Tensor
@testable import Datasets

@Test func parsesTheIssueExample() throws {
    let d = try Degradation(parsing: "size=8..32,interp=bicubic,blur=0..1.2,jpeg=30..90,up=112")
    #expect(d.target == .size(.range(8...32)))
    #expect(d.interpolation == .bicubic && d.antialias)
    #expect(d.blur == .range(0...1.2) && d.jpeg == .range(30...90))
    #expect(d.up == .size(112) && d.noise == nil && d.occlusion == nil && d.probability == 1)
    #expect(try Degradation(parsing: d.description) == d)
}

@Test func parsesEveryKeyAndRoundTrips() throws {
    let specs = ["scale=4,interp=nearest,antialias=false,up=hr,upinterp=bilinear",
                 "size=14|28|56,interp=area,noise=0..8,occlude=0.1..0.3,p=0.5,up=hr",
                 "blur=0.6,interp=nearest", "none", ""]
    for spec in specs {
        let d = try Degradation(parsing: spec)
        #expect(try Degradation(parsing: d.description) == d, "\(spec) → \(d)")
    }
    let d = try Degradation(parsing: " scale = 2..4 , up = 64 ")
    #expect(d.target == .scale(.range(2...4)) && d.up == .size(64))
    #expect(try Degradation(parsing: "none") == .identity)
}

@Test func badSpecsNameTheTokenAndKeys() {
    func message(_ spec: String) -> String {
        do {
            _ = try Degradation(parsing: spec)
            return ""
        } catch {
            return "\(error)"
        }
    }
    let unknown = message("size=16,colour=3")
    #expect(unknown.contains("'colour'") && unknown.contains("known keys: size, scale, interp"))
    #expect(message("size=16,size=8").contains("twice"))
    #expect(message("size=a..8").contains("'size=a..8'") && message("size=a..8").contains("'a'"))
    #expect(message("size=32..8").contains("empty"))
    #expect(message("jpeg=0..50").contains("outside 1...100"))
    #expect(message("interp=lanczos").contains("lanczos") && message("interp=lanczos").contains("bicubic"))
    #expect(message("size=8,scale=2").contains("exclude"))
    #expect(message("up=big").contains("'big'"))
    #expect(message("p=2").contains("probability"))
    #expect(message("blur").contains("key=value"))
    #expect(message("size=8...16").contains("ranges are written lo..hi"))
}

private func parseError(_ spec: String) -> String {
    do {
        _ = try Degradation(parsing: spec)
        return ""
    } catch {
        return "\(error)"
    }
}

/// `0...2` split at ".." is "0" and ".2": it was read as 0…0.2 (blur, noise, occlude) or failed
/// with "0.4 is outside" (scale=2...4). A range end starting or ending with a dot is refused.
@Test func threeDotRangesAreRefused() throws {
    for spec in ["blur=0...2", "noise=0...6", "scale=2...4", "occlude=0...5", "size=8...16", "blur=0.. .5", "blur=1. ..2", "jpeg=30....90"] {
        let message = parseError(spec)
        #expect(message.contains("ranges are written lo..hi") && message.contains("'\(spec)'"), "\(spec): \(message)")
    }
    #expect(try Degradation(parsing: "blur=0..0.2").blur == .range(0...0.2))
    #expect(try Degradation(parsing: "blur=0.5..2,noise=0..6").noise == .range(0...6))
}

/// σ² in Float underflowed to 0 below σ ≈ 2.6e-23: the centre tap was 0/0 and every pixel NaN.
@Test func tinyBlurLeavesTheImageUnchanged() throws {
    let image = Image(width: 9, height: 7, channels: 3) { out in for i in 0..<out.count { out[i] = Float((i * 29) % 256) } }
    let d = try Degradation(parsing: "blur=1e-30")
    var rng = RandomGenerator(seed: 1)
    let out = d.apply(to: image, using: &rng)
    #expect(!out.pixels.contains { $0.isNaN })
    #expect(out == image)
}

/// `size` and `up` up to 32768 passed the parser; `up=32768` then tried to allocate 12.9 GB per
/// RGB image. They now stop at the largest square within `Image.maximumPixelCount`.
@Test func sizeAndUpStopAtThePixelLimit() throws {
    let side = Degradation.maximumSpecSide
    #expect(side == 5792 && side * side <= Image.maximumPixelCount && (side + 1) * (side + 1) > Image.maximumPixelCount)
    for spec in ["up=32768", "up=5793", "size=5793", "size=8..6000", "size=16|32768"] {
        let message = parseError(spec)
        #expect(message.contains("5792") && message.contains("\(Image.maximumPixelCount)") && message.contains("'\(spec)'"), "\(spec): \(message)")
    }
    #expect(try Degradation(parsing: "size=5792,up=5792").up == .size(5792))
}

/// `description` parses back to an equivalent value: equal, except that `x..x` and a one-value
/// choice become `.fixed(x)` and a probability above 1 becomes 1 — and every image is degraded
/// identically, because a value that cannot vary draws no random numbers.
@Test func descriptionParsesBackToAnEquivalentValue() throws {
    let parsed = ["size=8..32,interp=bicubic,blur=0..1.2,noise=0..6,jpeg=30..90,up=112",
                  "scale=1.5..3,interp=area,antialias=false,occlude=0..0.25,p=0.3,up=hr,upinterp=nearest",
                  "size=12|12|20,noise=0.5|2,occlude=0.1,p=0.75"]
    var cases = try parsed.map { (try Degradation(parsing: $0), try Degradation(parsing: $0)) }
    cases.append((Degradation(target: .size(.range(10...10)), up: .original, blur: .range(0.7...0.7), noise: .range(0...4), jpeg: .choice([60])),
                  Degradation(target: .size(.fixed(10)), up: .original, blur: .fixed(0.7), noise: .range(0...4), jpeg: .fixed(60))))
    cases.append((Degradation(target: .scale(.choice([2])), occlusion: .range(0.2...0.2), probability: 1.5),
                  Degradation(target: .scale(.fixed(2)), occlusion: .fixed(0.2))))
    let image = Image(width: 24, height: 20, channels: 3) { out in for i in 0..<out.count { out[i] = Float((i * 37) % 256) } }
    for (d, expected) in cases {
        let back = try Degradation(parsing: d.description)
        #expect(back == expected, "\(d) → \(back)")
        for seed: UInt64 in 0..<6 {
            var a = RandomGenerator(seed: seed), b = RandomGenerator(seed: seed)
            #expect(d.apply(to: image, using: &a) == back.apply(to: image, using: &b), "\(d), seed \(seed)")
            #expect(a.next() == b.next(), "\(d) and \(back) drew different amounts, seed \(seed)")
        }
    }
}

/// `up=N` on a non-square image: every sample comes back at the size `outputSize` reports, the
/// original's aspect ratio (not the rounded LR view's: 96×112 at 9 px came back 112×137).
@Test func upSizeKeepsTheOriginalsAspectRatio() throws {
    var rng = RandomGenerator(seed: 4)
    let hr = Image(width: 96, height: 112, channels: 1) { out in for i in 0..<out.count { out[i] = Float(i % 251) } }
    for spec in ["size=9,up=112", "scale=3,up=112", "size=8..20,interp=bicubic,blur=0..0.6,noise=0..3,up=32"] {
        let d = try Degradation(parsing: spec)
        let expected = try #require(d.outputSize(width: 96, height: 112))
        for _ in 0..<20 {
            let out = d.apply(to: hr, using: &rng)
            #expect(out.width == expected.width && out.height == expected.height, "\(spec): \(out.width)×\(out.height), expected \(expected)")
        }
    }
    #expect(try Degradation(parsing: "size=9,up=112").outputSize(width: 96, height: 112)! == (112, 131))
}

@Test func applyIsSeededAndProducesTheRequestedSizes() throws {
    var rng = RandomGenerator(seed: 9)
    let hr = Image(width: 40, height: 40, channels: 3) { out in
        for i in 0..<out.count { out[i] = Float((i * 37) % 256) }
    }
    let fixed = try Degradation(parsing: "size=10,interp=bilinear")
    #expect(fixed.outputSize(width: 40, height: 40)! == (10, 10))
    let small = fixed.apply(to: hr, using: &rng)
    #expect(small.width == 10 && small.height == 10)
    #expect(small == hr.resized(width: 10, height: 10, interpolation: .bilinear))

    let random = try Degradation(parsing: "size=6..20,blur=0..1,noise=0..5,jpeg=40..90,occlude=0..0.3,up=hr")
    #expect(random.outputSize(width: 40, height: 30)! == (40, 30))
    #expect(try Degradation(parsing: "size=6..20").outputSize(width: 40, height: 30) == nil)
    var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 1), c = RandomGenerator(seed: 2)
    let x = random.apply(to: hr, using: &a), y = random.apply(to: hr, using: &b), z = random.apply(to: hr, using: &c)
    #expect(x == y && x != z)
    #expect(x.width == 40 && x.height == 40)

    var sizes: Set<Int> = []
    for _ in 0..<200 { sizes.insert(try Degradation(parsing: "size=8..11").apply(to: hr, using: &rng).width) }
    #expect(sizes == [8, 9, 10, 11])
    let half = try Degradation(parsing: "scale=2,p=0.5,up=hr")
    var degraded = 0
    for _ in 0..<200 where half.apply(to: hr, using: &rng) != hr { degraded += 1 }
    #expect(degraded > 60 && degraded < 140)
}

/// `samples --degrade size=64` of 32-px faces made an "LR" view larger than the HR image: a size
/// above the HR side for every draw is an error, for some draws a warning.
@Test func sizesAboveTheHRImageAreRefusedOrWarned() throws {
    func check(_ spec: String, _ width: Int = 32, _ height: Int = 40) throws -> String? {
        try Degradation(parsing: spec).checkDownsampling(width: width, height: height)
    }
    let error = try #require(throws: DatasetError.self) { try check("size=64") }
    #expect(error.description == "degradation spec 'size=64,interp=bicubic': size 64 is above the 32×40 HR image's shorter side 32, where the LR view is up-sampled, "
            + "not low-resolution; use a size up to 32 (up= enlarges the view afterwards)", "\(error)")
    #expect(throws: DatasetError.self) { try check("size=33..40,up=hr") }
    let warning = try check("size=8|16|32|64|128,interp=bilinear,up=hr,p=0.1")
    #expect(warning?.contains("size 8|16|32|64|128 reaches 128, above the 32×40 HR image's shorter side 32") == true, "\(warning ?? "")")
    for fine in ["size=32", "size=8..32,up=112", "scale=2", "up=64", "blur=1", "none"] { #expect(try check(fine) == nil, "\(fine)") }
}

/// The commands' default LR view (`size=8..20`) warned of 16-px faces (`samples`) and up-sampled
/// some views of a 16-px teacher's (`distill`): it is now fitted to the HR image, and the fitted
/// spec passes `checkDownsampling`. A spec given as it is keeps the check (above).
@Test func theDefaultViewFitsTheHRImage() throws {
    #expect(Degradation.defaultView(width: 32, height: 40) == (try Degradation(parsing: Degradation.defaultSpec)))
    #expect(Degradation.defaultView(width: 16, height: 20, up: .size(16))
            == (try Degradation(parsing: "size=8..16,interp=bicubic,blur=0..0.6,noise=0..3,up=16")))
    #expect(Degradation.defaultView(width: 8, height: 8).target == .size(.fixed(8)))
    #expect(Degradation.defaultView(width: 6, height: 9).target == .size(.fixed(6)))
    for side in [4, 8, 12, 16, 19, 20, 21, 112] {
        let view = Degradation.defaultView(width: side, height: side, up: .original)
        #expect(try view.checkDownsampling(width: side, height: side) == nil, "\(side)")
        #expect(try Degradation(parsing: view.description) == view, "\(side): \(view)")
    }
    // Fixed sizes and choices are clamped too; other steps are kept.
    #expect(try Degradation(parsing: "size=24,blur=1").fitted(width: 16, height: 16) == (try Degradation(parsing: "size=16,blur=1")))
    #expect(try Degradation(parsing: "size=8|16|32,up=hr").fitted(width: 16, height: 16) == (try Degradation(parsing: "size=8|16|16,up=hr")))
    #expect(try Degradation(parsing: "scale=4").fitted(width: 16, height: 16) == (try Degradation(parsing: "scale=4")))
    // An image has a pixel at least: sides below 1 give views of 1 pixel, not specs that trap.
    for (width, height) in [(0, 0), (-3, 5)] {
        let view = Degradation.defaultView(width: width, height: height)
        #expect(view.target == .size(.fixed(1)), "\(view)")
        #expect(try Degradation(parsing: view.description) == view, "\(view)")
    }
}
