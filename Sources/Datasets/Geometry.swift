import Tensor

/// Crops and mirroring.
extension Image {
    /// The `width × height` region whose top-left pixel is `(x, y)`; it must lie inside the image.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(x >= 0 && y >= 0 && width >= 0 && height >= 0 && x + width <= self.width && y + height <= self.height,
                     "Image.cropped: region (\(x), \(y)) \(width)x\(height) is not inside the \(self.width)x\(self.height) image")
        let inPlane = self.width * self.height, inWidth = self.width
        return pixels.withUnsafeBufferPointer { src in
            Image(width: width, height: height, channels: channels) { out in
                for c in 0..<channels {
                    for row in 0..<height {
                        let from = src.baseAddress! + (c &* inPlane &+ (y &+ row) &* inWidth &+ x)
                        (out.baseAddress! + (c &* height &+ row) &* width).update(from: from, count: width)
                    }
                }
            }
        }
    }

    /// The central `width × height` region; it must fit in the image. Offsets are `(W − w)/2` and
    /// `(H − h)/2` rounded half to even, as torchvision's `CenterCrop` computes them
    /// (`int(round((W − w) / 2))`): 115 → 112 starts at 2 (`round(1.5)`), 113 → 112 at 0
    /// (`round(0.5)`), 114 → 112 at 1.
    public func centreCropped(width: Int, height: Int) -> Image {
        precondition(width >= 0 && height >= 0 && width <= self.width && height <= self.height,
                     "Image.centreCropped: \(width)x\(height) does not fit in the \(self.width)x\(self.height) image")
        return cropped(x: Self.centreOffset(self.width - width), y: Self.centreOffset(self.height - height), width: width, height: height)
    }

    /// `margin / 2` rounded half to even (Python's `round`).
    private static func centreOffset(_ margin: Int) -> Int {
        Int((Double(margin) / 2).rounded(.toNearestOrEven))
    }

    /// The image mirrored left–right: `out[x] = in[W − 1 − x]`.
    public func horizontallyFlipped() -> Image {
        let w = width
        return pixels.withUnsafeBufferPointer { src in
            Image(width: width, height: height, channels: channels) { out in
                for row in 0..<(channels * height) {
                    let from = src.baseAddress! + row &* w, to = out.baseAddress! + row &* w
                    for x in 0..<w { to[x] = from[w &- 1 &- x] }
                }
            }
        }
    }
}
