import Tensor

/// How the low-resolution (LR) view of a high-resolution (HR) face is made.
///
/// Steps, in this order, each optional (the physical order of a camera chain — the scene is
/// occluded, the optics blur, the sensor samples and adds noise, the codec compresses — then
/// the network's input size is restored):
///
/// 1. `occlude` — a rectangle of `f·W × f·H` at a random position, filled with a random grey;
/// 2. `blur` — Gaussian blur with `σ` in HR pixels;
/// 3. down-sampling to `size` (shorter side, aspect kept) or by the factor `scale`
///    (`W/scale × H/scale`), with `interp` and, when shrinking, `antialias`;
/// 4. `noise` — additive Gaussian noise with `σ` in levels of 0…255;
/// 5. `jpeg` — JPEG re-compression at that quality;
/// 6. `up` — back to the HR size (`up=hr`) or to a shorter side (`up=112`), with `upinterp`
///    (default: `interp`).
///
/// With `p < 1` the whole chain is applied to a fraction `p` of the samples; the others keep
/// the HR image (resized to the `up` size when one is given), as in Massoli et al.'s
/// curriculum. Every numeric value may be fixed (`16`), a uniform range (`8..32`) or a choice
/// (`14|28|56`), drawn per sample from the generator passed to ``apply(to:using:)``.
///
/// Text form (``init(parsing:)`` and ``description``), e.g.
/// `size=8..32,interp=bicubic,blur=0..1.2,jpeg=30..90,up=112`. See Docs/Datasets.md.
/// The sources compared in research/methods.md §8 differ exactly in these choices (nearest vs
/// bilinear vs antialiased bicubic, blur, up-sampling back), so they are explicit.
public struct Degradation: Sendable, Equatable {
    /// The down-sampling target.
    public enum Target: Sendable, Equatable {
        /// Shorter side in pixels.
        case size(Sampled<Int>)
        /// Down-sampling factor ≥ 1 (`4` turns 112 into 28).
        case scale(Sampled<Float>)
    }

    /// The up-sampling target.
    public enum UpTarget: Sendable, Equatable {
        /// Back to the input (HR) image's width and height.
        case original
        /// To this shorter side, aspect kept.
        case size(Int)
    }

    public var target: Target?
    public var interpolation: Interpolation
    public var antialias: Bool
    public var up: UpTarget?
    /// Filter for the up-sampling; `nil` means ``interpolation``.
    public var upInterpolation: Interpolation?
    /// Gaussian blur `σ` in HR pixels.
    public var blur: Sampled<Float>?
    /// Additive Gaussian noise `σ` in levels (0…255).
    public var noise: Sampled<Float>?
    /// JPEG quality 1…100.
    public var jpeg: Sampled<Int>?
    /// Occluded fraction of each side, 0…1.
    public var occlusion: Sampled<Float>?
    /// Probability that a sample is degraded at all.
    public var probability: Float

    public init(target: Target? = nil, interpolation: Interpolation = .bicubic, antialias: Bool = true,
                up: UpTarget? = nil, upInterpolation: Interpolation? = nil, blur: Sampled<Float>? = nil,
                noise: Sampled<Float>? = nil, jpeg: Sampled<Int>? = nil, occlusion: Sampled<Float>? = nil,
                probability: Float = 1) {
        self.target = target
        self.interpolation = interpolation
        self.antialias = antialias
        self.up = up
        self.upInterpolation = upInterpolation
        self.blur = blur
        self.noise = noise
        self.jpeg = jpeg
        self.occlusion = occlusion
        self.probability = probability
    }

    /// No degradation: the LR view is the HR image.
    public static let identity = Degradation()

    /// The LR view of `image`, drawing the random parameters from `rng` (always in the same
    /// order, so a generator seeded per sample makes the result reproducible).
    public func apply(to image: Image, using rng: inout RandomGenerator) -> Image {
        var out = image
        let applied = probability >= 1 || rng.nextUniform() < probability
        if applied {
            if let occlusion {
                let fraction = min(max(occlusion.draw(using: &rng), 0), 1)
                let w = Int((fraction * Float(out.width)).rounded()), h = Int((fraction * Float(out.height)).rounded())
                let x = Int(rng.next() % UInt64(out.width - w + 1)), y = Int(rng.next() % UInt64(out.height - h + 1))
                out = out.occluded(x: x, y: y, width: w, height: h, value: 255 * rng.nextUniform())
            }
            if let blur {
                let sigma = blur.draw(using: &rng)
                if sigma > 0 { out = out.gaussianBlurred(sigma: sigma) }
            }
            if let target {
                let (w, h) = lowSize(width: out.width, height: out.height, target: target, rng: &rng)
                out = out.resized(width: w, height: h, interpolation: interpolation, antialias: antialias)
            }
            if let noise { out = out.addingGaussianNoise(sigma: noise.draw(using: &rng), using: &rng) }
            if let jpeg { out = out.jpegRecompressed(quality: jpeg.draw(using: &rng)) }
        }
        switch up {
        case .original?:
            out = out.resized(width: image.width, height: image.height, interpolation: upInterpolation ?? interpolation)
        case .size(let side)?:
            // The original's aspect ratio, not the LR view's rounded one: every sample of an image
            // comes back at the one size ``outputSize(width:height:)`` reports.
            let (w, h) = Image.size(shorterSide: side, width: image.width, height: image.height)
            out = out.resized(width: w, height: h, interpolation: upInterpolation ?? interpolation)
        case nil:
            break
        }
        return out
    }

    /// Checks that the views of a `width × height` HR image are low-resolution: throws a
    /// ``DatasetError`` when every view would be up-sampled (`size` above the image's shorter
    /// side, e.g. `size=64` of a 32 × 32 face), and returns a warning when only some would be (a
    /// range or choice reaching above it), `nil` when none. `up` may enlarge the view afterwards.
    public func checkDownsampling(width: Int, height: Int) throws -> String? {
        let side = min(width, height)
        guard let sizes = sizes(above: side) else { return nil }
        let problem = "above the \(width)×\(height) HR image's shorter side \(side), where the LR view is up-sampled, not low-resolution"
        guard sizes.lowerBound <= side else {
            throw DatasetError("degradation spec '\(self)'", "size \(sizes) is \(problem); use a size up to \(side) (up= enlarges the view afterwards)")
        }
        return "degradation spec '\(self)': size \(sizes) reaches \(sizes.upperBound), \(problem); those draws are not LR views"
    }

    /// The `size` values when some reach above `side` (an HR image's shorter side), else `nil`.
    private func sizes(above side: Int) -> Sampled<Int>? {
        guard case .size(let sizes)? = target, sizes.upperBound > side else { return nil }
        return sizes
    }

    /// The LR view of the commands when none is given (`distill`, `samples`, the study):
    /// 8–20 pixels, bicubic, mild blur and noise; ``defaultView(width:height:up:)`` fits it to
    /// the HR images, so a default never up-samples.
    public static let defaultSpec = "size=8..20,interp=bicubic,blur=0..0.6,noise=0..3"

    /// ``defaultSpec`` ``fitted(width:height:)`` to a `width × height` HR image, then brought to
    /// `up` (`distill` and the study: the network's input).
    public static func defaultView(width: Int, height: Int, up: UpTarget? = nil) -> Degradation {
        var view = try! Degradation(parsing: defaultSpec).fitted(width: width, height: height)  // (a constant the tests parse)
        view.up = up
        return view
    }

    /// This degradation with its `size` values clamped to a `width × height` HR image's shorter
    /// side, so that ``checkDownsampling(width:height:)`` neither warns nor throws: how a
    /// *default* fits small images (`size=8..20` of 16-px faces gives `size=8..16`; of 6-px
    /// ones `size=6`). A spec a user gives is checked, never changed.
    public func fitted(width: Int, height: Int) -> Degradation {
        let side = max(1, min(width, height))  // (an image has a pixel at least)
        guard let sizes = sizes(above: side) else { return self }
        var fitted = self
        switch sizes {
        case .fixed: fitted.target = .size(.fixed(side))
        case .range(let range): fitted.target = .size(range.lowerBound >= side ? .fixed(side) : .range(range.lowerBound...side))
        case .choice(let values): fitted.target = .size(.choice(values.map { min($0, side) }))
        }
        return fitted
    }

    private func lowSize(width: Int, height: Int, target: Target, rng: inout RandomGenerator) -> (Int, Int) {
        switch target {
        case .size(let side):
            return Image.size(shorterSide: side.draw(using: &rng), width: width, height: height)
        case .scale(let factor):
            let f = factor.draw(using: &rng)
            return (max(1, Int((Float(width) / f).rounded())), max(1, Int((Float(height) / f).rounded())))
        }
    }

    /// The output size for a `width × height` input when every sample has the same one, or
    /// `nil` when it varies per sample (random size without `up`).
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int)? {
        switch up {
        case .original?: return (width, height)
        case .size(let side)?: return Image.size(shorterSide: side, width: width, height: height)
        case nil: break
        }
        guard let target else { return (width, height) }
        if probability < 1 { return nil }
        switch target {
        case .size(let side):
            return side.isFixed ? Image.size(shorterSide: side.lowerBound, width: width, height: height) : nil
        case .scale(let factor):
            guard factor.isFixed else { return nil }
            let f = factor.lowerBound
            return (max(1, Int((Float(width) / f).rounded())), max(1, Int((Float(height) / f).rounded())))
        }
    }
}
