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

    /// The central `width × height` region (offsets rounded down, as torchvision's `CenterCrop`
    /// rounds `(W − w)/2`).
    public func centreCropped(width: Int, height: Int) -> Image {
        cropped(x: (self.width - width) / 2, y: (self.height - height) / 2, width: width, height: height)
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
