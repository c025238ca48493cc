/// Rectangular occlusion (sunglasses, a hand, a scarf — or random erasing, Zhong et al.
/// AAAI 2020): the pixels of a rectangle set to one value.
extension Image {
    /// The image with the rectangle at `(x, y)` of size `width × height` (clipped to the
    /// image) filled with `value` in every channel.
    public func occluded(x: Int, y: Int, width: Int, height: Int, value: Float) -> Image {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(self.width, x + width), y1 = min(self.height, y + height)
        guard x0 < x1, y0 < y1 else { return self }
        var out = self
        let w = self.width, h = self.height
        out.withUnsafeMutableBufferPointer { buffer in
            for c in 0..<channels {
                for row in y0..<y1 {
                    let start = (c * h + row) * w
                    for i in (start + x0)..<(start + x1) { buffer[i] = value }
                }
            }
        }
        return out
    }
}
