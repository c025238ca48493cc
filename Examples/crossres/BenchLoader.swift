import CrossRes

/// Loader throughput (issue 5): one epoch of 10 000 synthetic 112×112 faces in batches of 50,
/// each with its LR view (16 → 112 bicubic), prepared ahead by the prefetching loader.
enum BenchLoader {
    static func cases() -> [BenchCase] {
        let images = 10_000, batch = 50
        return [
            BenchCase(id: "loader.epoch", workload: "loader epoch 10 000 × 112 HR + 16→112 LR, prefetch 4, 2 workers",
                      variant: "BatchLoader", work: .items(Double(images), unit: "img"), iterations: 2, warmup: 0) {
                let faces = SyntheticFaces(identities: 1000, imagesPerIdentity: images / 1000, size: 112)
                let options = LoaderOptions(batchSize: batch, shuffle: true, flip: true, prefetch: 4, workers: 2,
                                            degradation: Degradation(target: .size(.fixed(16)), up: .original))
                let loader = BatchLoader(dataset: faces, options: options, seed: 1)
                var epoch = 0
                return {
                    let batches = loader.epoch(epoch)
                    epoch += 1
                    var seen = 0
                    while let b = try! batches.next() { seen += b.labels.count }
                    precondition(seen == images, "loader.epoch: saw \(seen) of \(images) images")
                }
            },
        ]
    }
}
