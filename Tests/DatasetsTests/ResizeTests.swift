import Foundation
import Testing
@testable import Datasets
import TestSupport

/// `Image.resized` against Pillow's `Image.resize` (the reference it reproduces).
@Suite(.enabled(if: Fixtures.hasPillow, "python3 with pillow and numpy is not installed"))
struct ResizeTests {
    /// (source w, h, target w, h): shrink, mixed, enlarge, 8× shrink, one axis only, a
    /// non-integer 3 → 2 shrink (area is then not the covered-area average).
    static let cases = [(23, 17, 7, 5), (23, 17, 5, 9), (23, 17, 40, 31), (48, 48, 6, 6), (12, 10, 12, 3), (3, 1, 2, 1)]

    static let script = Fixtures.pillowPrelude + """
    filters = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC, 'area': Image.BOX}
    for (w, h, ow, oh) in [\(cases.map { "(\($0.0), \($0.1), \($0.2), \($0.3))" }.joined(separator: ", "))]:
        src = rng.uniform(0, 255, (h, w)).astype(np.float32)
        save(f'src-{w}x{h}-{ow}x{oh}', src)
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        save(f'rgb-{w}x{h}-{ow}x{oh}', rgb)
        for name, f in filters.items():
            # Pillow's two passes (x then y) with the 0...255 clamp of 8-bit modes, in float.
            mid = np.clip(np.array(Image.fromarray(src).resize((ow, h), f)), 0, 255)
            save(f'{name}-{w}x{h}-{ow}x{oh}', np.clip(np.array(Image.fromarray(mid).resize((ow, oh), f)), 0, 255))
            save(f'rgb-{name}-{w}x{h}-{ow}x{oh}', np.array(Image.fromarray(rgb).resize((ow, oh), f)))
    """

    /// Float ("F" mode) Pillow, run pass by pass with the clamp of 8-bit modes, has no rounding,
    /// so it must match to float precision (1e-4 of 255); 8-bit RGB Pillow also rounds after each
    /// pass, so our rounded result may differ from it by one level (nearest: not at all).
    static let floatTolerance: Float = 1e-4
    static let byteTolerance: [Interpolation: Float] = [.nearest: 0, .bilinear: 1, .area: 1, .bicubic: 1]

    @Test func matchesPillow() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { Fixtures.cleanUp(dir) }
        try Python.run(Self.script, in: dir)
        for (w, h, ow, oh) in Self.cases {
            let tag = "\(w)x\(h)-\(ow)x\(oh)"
            let grey = Image(width: w, height: h, channels: 1, pixels: try Fixtures.floats(dir.appendingPathComponent("src-\(tag).f32")))
            let rgb = Image(width: w, height: h, channels: 3, pixels: try Fixtures.floats(dir.appendingPathComponent("rgb-\(tag).f32")))
            for filter in Interpolation.allCases {
                let expected = try Fixtures.floats(dir.appendingPathComponent("\(filter.rawValue)-\(tag).f32"))
                let ours = grey.resized(width: ow, height: oh, interpolation: filter)
                #expect(ours.width == ow && ours.height == oh)
                #expect(Fixtures.maxDifference(ours.pixels, expected) <= Self.floatTolerance, "\(filter) \(tag)")
                let expectedRGB = try Fixtures.floats(dir.appendingPathComponent("rgb-\(filter.rawValue)-\(tag).f32"))
                let oursRGB = rgb.resized(width: ow, height: oh, interpolation: filter).quantized()
                #expect(Fixtures.maxDifference(oursRGB.pixels, expectedRGB) <= Self.byteTolerance[filter]!, "RGB \(filter) \(tag)")
            }
        }
    }
}

@Test func resizeKeepsConstantsAndShorterSide() {
    let flat = Image(width: 30, height: 20, channels: 3, value: 77)
    for filter in Interpolation.allCases {
        for antialias in [true, false] {
            let small = flat.resized(width: 7, height: 4, interpolation: filter, antialias: antialias)
            #expect(small.pixels.allSatisfy { abs($0 - 77) < 1e-3 }, "\(filter) antialias \(antialias)")
        }
    }
    let resized = flat.resized(shorterSide: 10)
    #expect(resized.width == 15 && resized.height == 10)
    #expect(flat.resized(width: 30, height: 20) == flat)
}

@Test func areaShrinkIsBlockAverage() {
    let image = Image(width: 4, height: 2, channels: 1, pixels: [0, 2, 4, 6, 8, 10, 12, 14])
    let half = image.resized(width: 2, height: 1, interpolation: .area)
    #expect(half.pixels == [5, 9])
}

/// `.area` is Pillow's BOX: a source pixel counts fully or not at all, by where its centre falls,
/// so 3 → 2 is not the covered-area average (OpenCV's INTER_AREA gives [0, 170]); Pillow 13
/// gives [0, 255].
@Test func areaWeighsSourcePixelsByTheirCentres() {
    let image = Image(width: 3, height: 1, channels: 1, pixels: [0, 0, 255])
    #expect(image.resized(width: 2, height: 1, interpolation: .area).pixels == [0, 255])
}
