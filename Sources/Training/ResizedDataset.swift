import Datasets
import Tensor

/// A data set's images as a network takes them: converted to `channels` channels and resized
/// (bicubic with antialias, as ``LoaderOptions/hrSize``) to `size × size` when they differ —
/// what evaluation and contact sheets need for folders of mixed sizes or grey images.
public struct ResizedDataset: FaceDataset {
    public let base: any FaceDataset
    public let size: Int
    public let channels: Int

    public init(_ base: any FaceDataset, size: Int, channels: Int = 3) {
        precondition(size >= 1 && (channels == 1 || channels == 3), "ResizedDataset: size \(size) must be positive, channels \(channels) 1 or 3")
        self.base = base
        self.size = size
        self.channels = channels
    }

    public var count: Int { base.count }
    public var identityCount: Int { base.identityCount }
    public func label(at index: Int) -> Int { base.label(at: index) }

    public func sample(at index: Int) throws -> Sample {
        var sample = try base.sample(at: index)
        var image = sample.image.converted(toChannels: channels)
        if image.width != size || image.height != size { image = image.resized(width: size, height: size) }
        sample.image = image
        return sample
    }
}
