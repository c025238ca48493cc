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
    #expect(message("size=8...16").contains("'.16' is not a whole number"))
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
