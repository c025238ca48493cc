import Foundation
import Tensor

/// A deterministic procedural face data set: the embedded default, no download needed.
///
/// Each identity is a fixed drawing of ~60 shape and colour parameters (from a generator seeded
/// by `seed` and the identity): face oval and jaw, skin tone, hair colour, style and hairline,
/// ears, eye spacing/height/size/shape and iris colour, brow position/thickness/arch/tilt,
/// nose length and width, mouth position/width/lips, and optionally glasses, beard or
/// moustache and 0–3 moles (fine marks). Each image adds nuisance from a generator seeded by
/// the identity and image index: in-plane rotation, shift and scale, yaw (features slide
/// sideways by their depth), expression (smile, open mouth, eye opening, brow raise), lighting
/// direction and strength, ambient level and colour cast, a background colour and gradient,
/// and pixel noise.
///
/// At 112 px the identities are easy to tell apart; at 8–16 px iris colour, moles, brow shape,
/// glasses frames and lip shape vanish and only the coarse layout and colours survive — the
/// cross-resolution problem in miniature. ``nuisance`` scales all per-image variation (0 gives
/// one canonical image per identity). Rendering is vectorised by primitive (each ellipse only
/// touches its bounding box), a few thousand 112 px images per second per core in release.
public struct SyntheticFaces: FaceDataset {
    public let identityCount: Int
    public let imagesPerIdentity: Int
    /// Image side in pixels (square).
    public let size: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    public let seed: UInt64
    /// Multiplier of the per-image variation (pose, expression, lighting, background, noise).
    public let nuisance: Float

    public init(identities: Int, imagesPerIdentity: Int, size: Int = 112, channels: Int = 3, seed: UInt64 = 0, nuisance: Float = 1) {
        precondition(identities >= 1 && imagesPerIdentity >= 1, "SyntheticFaces: needs at least one identity and one image per identity")
        precondition(size >= 4 && size <= 4096, "SyntheticFaces: size \(size) outside 4...4096")
        precondition(channels == 1 || channels == 3, "SyntheticFaces: channels must be 1 or 3, got \(channels)")
        precondition(nuisance >= 0, "SyntheticFaces: nuisance must be non-negative")
        self.identityCount = identities
        self.imagesPerIdentity = imagesPerIdentity
        self.size = size
        self.channels = channels
        self.seed = seed
        self.nuisance = nuisance
    }

    public var count: Int { identityCount * imagesPerIdentity }
    public func label(at index: Int) -> Int { index / imagesPerIdentity }

    public func sample(at index: Int) -> Sample {
        precondition(index >= 0 && index < count, "SyntheticFaces.sample: index \(index) outside 0..<\(count)")
        return Sample(image: render(identity: index / imagesPerIdentity, variation: index % imagesPerIdentity), label: index / imagesPerIdentity)
    }

    /// Image `variation` of `identity` (any non-negative variation, not only those in the set).
    public func render(identity: Int, variation: Int) -> Image {
        var identityRNG = RandomGenerator(seed: mixSeed(seed, 0x1D, UInt64(identity)))
        var sampleRNG = RandomGenerator(seed: mixSeed(seed, 0x5A, UInt64(identity), UInt64(variation)))
        let face = FaceIdentity(using: &identityRNG)
        let pose = FaceNuisance(using: &sampleRNG, strength: nuisance)
        let canvas = FaceCanvas(size: size, pose: pose)
        canvas.draw(face: face, pose: pose)
        let rgb = canvas.finish(pose: pose, face: face, noiseSeed: sampleRNG.next())
        return channels == 1 ? rgb.grey() : rgb
    }
}

/// The fixed parameters of one synthetic identity (face coordinates: the image spans
/// `[−1, 1]²`, x to the right, y down).
struct FaceIdentity {
    var faceWidth, faceHeight, jaw, faceY: Float
    var skin: SIMD3<Float>
    var hair: SIMD3<Float>
    var hairline, hairCurve, hairVolume: Float
    var longHair: Bool
    var bald: Bool
    var earSize, earY: Float
    var eyeSpacing, eyeY, eyeWidth, eyeAspect, eyeTilt, irisRatio: Float
    var iris: SIMD3<Float>
    var browGap, browThickness, browLength, browArch, browTilt: Float
    var brow: SIMD3<Float>
    var noseLength, noseWidth: Float
    var mouthY, mouthWidth, lipThickness: Float
    var lips: SIMD3<Float>
    var glasses: (ring: Float, width: Float, height: Float, colour: SIMD3<Float>)?
    var beard: Bool
    var moustache: Bool
    var moles: [(x: Float, y: Float, r: Float)]

    init(using rng: inout RandomGenerator) {
        func u(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * rng.nextUniform() }
        func pick(_ palette: [SIMD3<Float>]) -> SIMD3<Float> { palette[Int(rng.next() % UInt64(palette.count))] }
        faceWidth = u(0.50, 0.66)
        faceHeight = u(0.70, 0.86)
        jaw = u(0, 0.4)
        faceY = u(0.0, 0.1)
        let tone = u(0, 1)
        let light = SIMD3<Float>(241, 206, 180), medium = SIMD3<Float>(196, 146, 108), dark = SIMD3<Float>(110, 72, 50)
        skin = (tone < 0.5 ? light + (medium - light) * (tone * 2) : medium + (dark - medium) * (tone * 2 - 1))
            * SIMD3(u(0.95, 1.05), u(0.95, 1.05), u(0.95, 1.05))
        hair = pick([[28, 24, 24], [68, 44, 30], [118, 80, 50], [196, 166, 108], [150, 72, 36], [158, 156, 152], [222, 220, 214]])
        hairline = faceY - faceHeight * u(0.45, 0.7)
        hairCurve = u(-0.3, 0.9)
        hairVolume = u(1.0, 1.16)
        longHair = rng.nextUniform() < 0.35
        bald = rng.nextUniform() < 0.08
        earSize = u(0.07, 0.13)
        earY = u(-0.08, 0.06)
        eyeSpacing = u(0.17, 0.28)
        eyeY = faceY + u(-0.2, -0.06)
        eyeWidth = u(0.075, 0.125)
        eyeAspect = u(0.35, 0.6)
        eyeTilt = u(-0.15, 0.15)
        irisRatio = u(0.38, 0.55)
        iris = pick([[86, 56, 34], [42, 30, 24], [68, 110, 162], [78, 122, 82], [120, 130, 136], [122, 94, 48]])
        browGap = u(0.07, 0.14)
        browThickness = u(0.016, 0.05)
        browLength = u(0.1, 0.18)
        browArch = u(-1.5, 4)
        browTilt = u(-0.25, 0.25)
        brow = hair * u(0.5, 0.85)
        noseLength = u(0.14, 0.3)
        noseWidth = u(0.045, 0.1)
        mouthY = eyeY + noseLength + u(0.12, 0.22)
        mouthWidth = u(0.12, 0.24)
        lipThickness = u(0.022, 0.055)
        lips = skin * SIMD3(u(0.7, 0.85), u(0.42, 0.6), u(0.45, 0.6))
        glasses = rng.nextUniform() < 0.2 ? (u(0.012, 0.03), u(0.1, 0.14), u(0.07, 0.11), pick([[20, 20, 20], [90, 60, 30], [160, 160, 170]])) : nil
        beard = rng.nextUniform() < 0.12
        moustache = beard || rng.nextUniform() < 0.1
        var marks: [(x: Float, y: Float, r: Float)] = []
        for _ in 0..<Int(rng.next() % 4) { marks.append((u(-0.35, 0.35), faceY + u(-0.35, 0.5), u(0.01, 0.022))) }
        moles = marks
    }
}

/// The per-image variation of a synthetic face.
struct FaceNuisance {
    var shiftX, shiftY, scale, roll, yaw: Float
    var smile, mouthOpen, eyeOpen, browRaise: Float
    var lightX, lightY, lightStrength, ambient: Float
    var cast: SIMD3<Float>
    var background: SIMD3<Float>
    var backgroundSlope: SIMD2<Float>
    var noise: Float

    init(using rng: inout RandomGenerator, strength s: Float) {
        func u(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * rng.nextUniform() }
        shiftX = s * u(-0.06, 0.06)
        shiftY = s * u(-0.06, 0.06)
        scale = 1 + s * u(-0.07, 0.07)
        roll = s * u(-0.14, 0.14)
        yaw = s * u(-0.3, 0.3)
        smile = s * u(-0.3, 1)
        mouthOpen = rng.nextUniform() < 0.25 * s ? u(0.2, 1) : 0
        eyeOpen = rng.nextUniform() < 0.05 * s ? 0.15 : 1 - s * u(0, 0.35)
        browRaise = s * u(-0.015, 0.035)
        let angle = u(0, 2 * .pi)
        lightX = cos(angle)
        lightY = sin(angle)
        lightStrength = s * u(0, 0.55)
        ambient = 1 + s * u(-0.22, 0.12)
        cast = SIMD3(1 + s * u(-0.06, 0.06), 1, 1 + s * u(-0.06, 0.06))
        let grey = u(40, 220)
        background = s == 0 ? SIMD3(128, 128, 128) : SIMD3(grey + u(-30, 30), grey + u(-30, 30), grey + u(-30, 30))
        backgroundSlope = SIMD2(s * u(-40, 40), s * u(-40, 40))
        noise = s * u(0, 4)
    }
}

/// An ellipse primitive in face coordinates, optionally bent (`y' = y − bend·x²` in its own
/// frame), hollow (`ring` thickness), cut by the curve `y = cutY + cutCurve·x²` and clipped to
/// another primitive.
private struct Blob {
    var cx: Float, cy: Float
    var rx: Float { didSet { inverseRx = 1 / rx } }
    var ry: Float { didSet { inverseRy = 1 / ry } }
    private(set) var inverseRx: Float, inverseRy: Float
    var cosA: Float = 1, sinA: Float = 0
    var bend: Float = 0
    var ring: Float = 0
    var colour: SIMD3<Float>
    var opacity: Float = 1
    /// Keep the part above (`-1`) or below (`+1`) the cut curve; 0 for no cut.
    var cutSide: Float = 0
    var cutY: Float = 0, cutCurve: Float = 0
    var clip: Int? = nil
    /// Part of the subject (lit as a face rather than as background).
    var subject = false

    init(_ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float, angle: Float = 0, colour: SIMD3<Float>) {
        self.cx = cx
        self.cy = cy
        self.rx = rx
        self.ry = ry
        inverseRx = 1 / rx
        inverseRy = 1 / ry
        cosA = cos(angle)
        sinA = sin(angle)
        self.colour = colour
    }

    /// Half-extents of an axis-aligned box (face coordinates) around the primitive.
    var halfExtents: (x: Float, y: Float) {
        let bent = abs(bend) * rx * rx
        let ex = rx + ring, ey = ry + bent + ring
        return (abs(cosA) * ex + abs(sinA) * ey, abs(sinA) * ex + abs(cosA) * ey)
    }

    @inline(__always)
    func coverage(_ x: Float, _ y: Float, pixel: Float, inversePixel: Float) -> Float {
        let dx = x - cx, dy = y - cy
        let lx = cosA * dx + sinA * dy
        let ly = -sinA * dx + cosA * dy - bend * lx * lx
        let qx = lx * inverseRx, qy = ly * inverseRy
        let q2 = qx * qx + qy * qy
        var c: Float
        // Far inside or outside the edge band the coverage is 1 or 0: no square roots.
        let band = pixel * max(inverseRx, inverseRy)
        if ring == 0 && q2 < (1 - band) * (1 - band) {
            c = 1
        } else if ring == 0 && q2 > (1 + 2 * band) * (1 + 2 * band) {
            return 0
        } else {
            let q = q2.squareRoot()
            var distance = q > 1e-6 ? (q - 1) * (lx * lx + ly * ly).squareRoot() / q : -min(rx, ry)
            if ring > 0 { distance = abs(distance) - ring * 0.5 }
            c = min(max(0.5 - distance * inversePixel, 0), 1)
        }
        if cutSide != 0, c > 0 {
            c *= min(max(0.5 + cutSide * (y - cutY - cutCurve * x * x) * inversePixel, 0), 1)
        }
        return c
    }
}

/// Renders primitives into an RGB float canvas (planes red, green, blue, subject coverage).
private final class FaceCanvas {
    let size: Int
    /// `4 × size²` floats: red, green, blue, and the coverage of the subject (face and hair).
    let planes: UnsafeMutablePointer<Float>
    var blobs: [Blob] = []
    // Face → pixel: p = (scale·R(roll)·f + shift + 1)·size/2 − ½.
    let cosR: Float, sinR: Float, scale: Float, shiftX: Float, shiftY: Float
    /// One pixel in face units, and its inverse.
    let pixel: Float, inversePixel: Float
    private let twoOverSize: Float, inverseScale: Float

    init(size: Int, pose: FaceNuisance) {
        self.size = size
        let n = size * size
        planes = .allocate(capacity: 4 * n)
        cosR = cos(pose.roll)
        sinR = sin(pose.roll)
        scale = pose.scale
        shiftX = pose.shiftX
        shiftY = pose.shiftY
        pixel = 2 / (Float(size) * pose.scale)
        inversePixel = 1 / pixel
        twoOverSize = 2 / Float(size)
        inverseScale = 1 / pose.scale
        let inverse = 1 / Float(size)
        for y in 0..<size {
            let v = (Float(y) + 0.5) * inverse - 0.5
            for x in 0..<size {
                let u = (Float(x) + 0.5) * inverse - 0.5
                let c = pose.background + SIMD3(repeating: pose.backgroundSlope.x * u + pose.backgroundSlope.y * v)
                let i = y &* size &+ x
                planes[i] = c.x
                planes[n &+ i] = c.y
                planes[2 &* n &+ i] = c.z
                planes[3 &* n &+ i] = 0
            }
        }
    }

    deinit { planes.deallocate() }

    /// Face coordinates of pixel centre `(px, py)`.
    @inline(__always)
    func faceCoordinates(_ px: Int, _ py: Int) -> (Float, Float) {
        let u = (Float(px) + 0.5) * twoOverSize - 1 - shiftX
        let v = (Float(py) + 0.5) * twoOverSize - 1 - shiftY
        return ((cosR * u + sinR * v) * inverseScale, (-sinR * u + cosR * v) * inverseScale)
    }

    @discardableResult
    func add(_ blob: Blob) -> Int {
        blobs.append(blob)
        paint(blob)
        return blobs.count - 1
    }

    func paint(_ blob: Blob) {
        let half = Float(size) / 2
        let centreX = (scale * (cosR * blob.cx - sinR * blob.cy) + shiftX + 1) * half - 0.5
        let centreY = (scale * (sinR * blob.cx + cosR * blob.cy) + shiftY + 1) * half - 0.5
        // The face-space box, rotated by the roll, bounds the primitive in pixels.
        let (hx, hy) = blob.halfExtents
        let radiusX = ((abs(cosR) * hx + abs(sinR) * hy) + 2 * pixel) * scale * half + 1
        let radiusY = ((abs(sinR) * hx + abs(cosR) * hy) + 2 * pixel) * scale * half + 1
        let x0 = max(0, Int((centreX - radiusX).rounded(.down))), x1 = min(size - 1, Int((centreX + radiusX).rounded(.up)))
        let y0 = max(0, Int((centreY - radiusY).rounded(.down))), y1 = min(size - 1, Int((centreY + radiusY).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let clip = blob.clip.map { blobs[$0] }
        let n = size * size
        let red = planes, green = planes + n, blue = planes + 2 * n, subject = planes + 3 * n
        let colour = blob.colour, opacity = blob.opacity, isSubject = blob.subject, pixel = pixel, inversePixel = inversePixel
        for py in y0...y1 {
            for px in x0...x1 {
                let (x, y) = faceCoordinates(px, py)
                var a = blob.coverage(x, y, pixel: pixel, inversePixel: inversePixel)
                if a > 0, let clip { a *= clip.coverage(x, y, pixel: pixel, inversePixel: inversePixel) }
                guard a > 0 else { continue }
                let i = py &* size &+ px
                let alpha = a * opacity
                red[i] += (colour.x - red[i]) * alpha
                green[i] += (colour.y - green[i]) * alpha
                blue[i] += (colour.z - blue[i]) * alpha
                if isSubject { subject[i] = max(subject[i], a) }
            }
        }
    }

    func draw(face f: FaceIdentity, pose: FaceNuisance) {
        let yaw = pose.yaw
        let squeeze = 1 - 0.25 * abs(yaw)
        // Hair behind the head, ears, neck.
        if f.longHair && !f.bald {
            var back = Blob(0.03 * yaw, f.faceY + 0.2, f.faceWidth * 1.32, f.faceHeight * 1.15, colour: f.hair * 0.85)
            back.subject = true
            add(back)
        }
        for side: Float in [-1, 1] {
            let x = side * f.faceWidth * squeeze - 0.05 * yaw
            var ear = Blob(x, f.eyeY + f.earY + 0.06, f.earSize * 0.55, f.earSize, angle: side * 0.15, colour: f.skin * 0.9)
            ear.subject = true
            add(ear)
        }
        var neck = Blob(0.02 * yaw, f.faceY + f.faceHeight * 0.95, f.faceWidth * 0.55, f.faceHeight * 0.6, colour: f.skin * 0.82)
        neck.subject = true
        add(neck)
        // Face oval, with the jaw narrowing towards the chin (a bent ellipse pointing down).
        var oval = Blob(0.03 * yaw, f.faceY, f.faceWidth * squeeze, f.faceHeight, colour: f.skin)
        oval.bend = -f.jaw * 0.5
        oval.subject = true
        let faceIndex = add(oval)
        // Fine marks.
        for mole in f.moles {
            var m = Blob(mole.x + 0.08 * yaw, mole.y, mole.r, mole.r, colour: f.skin * 0.45)
            m.clip = faceIndex
            add(m)
        }
        // Beard and moustache.
        if f.beard {
            var beard = Blob(0.03 * yaw, f.faceY, f.faceWidth * squeeze * 1.01, f.faceHeight * 1.01, colour: f.hair)
            beard.bend = oval.bend
            beard.cutSide = 1
            beard.cutY = f.mouthY - 0.06
            beard.cutCurve = -0.4
            beard.opacity = 0.9
            add(beard)
        }
        // Hair on top: the head outline above a curved hairline.
        if !f.bald {
            var cap = Blob(0.02 * yaw, f.faceY - 0.04, f.faceWidth * f.hairVolume * squeeze, f.faceHeight * f.hairVolume, colour: f.hair)
            cap.cutSide = -1
            cap.cutY = f.hairline
            cap.cutCurve = f.hairCurve
            cap.subject = true
            add(cap)
        }
        // Eyes (sclera, iris clipped to it, pupil), brows.
        let eyeShift = 0.1 * yaw
        for side: Float in [-1, 1] {
            let ex = side * f.eyeSpacing * squeeze + eyeShift
            let openness = max(0.08, pose.eyeOpen)
            let sclera = add(Blob(ex, f.eyeY, f.eyeWidth * squeeze, f.eyeWidth * f.eyeAspect * openness,
                                  angle: side * f.eyeTilt, colour: SIMD3(235, 232, 228)))
            let irisRadius = f.eyeWidth * f.irisRatio
            var iris = Blob(ex + 0.03 * yaw, f.eyeY, irisRadius, irisRadius, colour: f.iris)
            iris.clip = sclera
            add(iris)
            var pupil = Blob(ex + 0.03 * yaw, f.eyeY, irisRadius * 0.45, irisRadius * 0.45, colour: SIMD3(15, 12, 12))
            pupil.clip = sclera
            add(pupil)
            var lid = Blob(ex, f.eyeY, f.eyeWidth * squeeze, f.eyeWidth * f.eyeAspect * openness, angle: side * f.eyeTilt, colour: f.skin * 0.4)
            lid.ring = 0.012
            lid.cutSide = -1
            lid.cutY = f.eyeY
            lid.opacity = 0.8
            add(lid)
            var brow = Blob(ex + side * 0.01, f.eyeY - f.browGap - pose.browRaise, f.browLength * squeeze, f.browThickness,
                            angle: side * f.browTilt, colour: f.brow)
            brow.bend = -f.browArch
            add(brow)
        }
        // Nose: shaded ridge, tip, nostrils.
        let noseX = 0.16 * yaw
        var ridge = Blob(noseX + 0.02, f.eyeY + f.noseLength * 0.5, f.noseWidth * 0.35, f.noseLength * 0.5, colour: f.skin * 0.82)
        ridge.opacity = 0.6
        add(ridge)
        add(Blob(noseX, f.eyeY + f.noseLength, f.noseWidth, f.noseWidth * 0.6, colour: f.skin * 0.9))
        for side: Float in [-1, 1] {
            add(Blob(noseX + side * f.noseWidth * 0.55, f.eyeY + f.noseLength + f.noseWidth * 0.25,
                     f.noseWidth * 0.28, f.noseWidth * 0.16, colour: f.skin * 0.35))
        }
        // Mouth: lips bent by the smile, an opening, a moustache above.
        let mouthX = 0.1 * yaw
        var lips = Blob(mouthX, f.mouthY, f.mouthWidth * squeeze, f.lipThickness * (1 + pose.mouthOpen), colour: f.lips)
        lips.bend = -pose.smile * 2.2
        add(lips)
        var line = Blob(mouthX, f.mouthY, f.mouthWidth * squeeze * 0.95, max(0.006, f.lipThickness * 0.6 * pose.mouthOpen), colour: SIMD3(60, 25, 25))
        line.bend = lips.bend
        add(line)
        if f.moustache {
            var m = Blob(mouthX, f.mouthY - f.lipThickness - 0.025, f.mouthWidth * squeeze * 0.85, 0.025, colour: f.hair)
            m.bend = -0.8
            add(m)
        }
        if let glasses = f.glasses {
            for side: Float in [-1, 1] {
                var lens = Blob(side * f.eyeSpacing * squeeze + eyeShift, f.eyeY, glasses.width * squeeze, glasses.height, colour: glasses.colour)
                lens.ring = glasses.ring
                add(lens)
            }
            var bridge = Blob(eyeShift, f.eyeY - glasses.height * 0.3, f.eyeSpacing - glasses.width, glasses.ring * 0.6, colour: glasses.colour)
            bridge.bend = 3
            add(bridge)
        }
    }

    /// Lighting, colour cast, noise; the planes become an RGB image.
    func finish(pose: FaceNuisance, face: FaceIdentity, noiseSeed: UInt64) -> Image {
        let n = size * size
        let red = planes, green = planes + n, blue = planes + 2 * n, subject = planes + 3 * n
        let lift: Float = 0.8
        let light = SIMD3(pose.lightX * lift, pose.lightY * lift, 1) / (lift * lift + 1).squareRoot()
        var state = noiseSeed
        let inverseWidth = 1 / (face.faceWidth * 1.1), inverseHeight = 1 / (face.faceHeight * 1.1)
        let centreX = 0.03 * pose.yaw, centreY = face.faceY
        let strength = pose.lightStrength, ambient = pose.ambient, noise = pose.noise
        let castRed = pose.cast.x, castBlue = pose.cast.z, lightX = pose.lightX, lightY = pose.lightY
        let inverseSize = 1 / Float(size)
        return Image(width: size, height: size, channels: 3) { out in
            for py in 0..<size {
                for px in 0..<size {
                    let i = py &* size &+ px
                    let (x, y) = faceCoordinates(px, py)
                    // Normal of the head, approximated by an ellipsoid over the face oval.
                    var nx = (x - centreX) * inverseWidth, ny = (y - centreY) * inverseHeight
                    let r2 = nx * nx + ny * ny
                    if r2 > 1 { let r = r2.squareRoot(); nx /= r; ny /= r }
                    let nz = max(0, 1 - nx * nx - ny * ny).squareRoot()
                    let diffuse = max(0, light.x * nx + light.y * ny + light.z * nz)
                    let faceShade = 1 - strength + strength * 1.25 * diffuse
                    let u = (Float(px) + 0.5) * inverseSize - 0.5, v = (Float(py) + 0.5) * inverseSize - 0.5
                    let backShade = 1 + 0.3 * strength * (lightX * u + lightY * v)
                    let shade = ambient * (backShade + (faceShade - backShade) * subject[i])
                    // Triangular noise from a counter-based hash: two uniforms per pixel.
                    state &+= 0x9E37_79B9_7F4A_7C15
                    var z = state
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    z ^= z >> 31
                    let e1 = Float(z & 0xFFFF) / 65_536, e2 = Float((z >> 16) & 0xFFFF) / 65_536
                    let e3 = Float((z >> 32) & 0xFFFF) / 65_536, e4 = Float(z >> 48) / 65_536
                    let grain = noise * 2.45 * (e1 + e2 - 1)
                    let chroma = noise * 0.8 * (e3 + e4 - 1)
                    out[i] = min(max(red[i] * shade * castRed + grain + chroma, 0), 255)
                    out[n &+ i] = min(max(green[i] * shade + grain, 0), 255)
                    out[2 &* n &+ i] = min(max(blue[i] * shade * castBlue + grain - chroma, 0), 255)
                }
            }
        }
    }
}
