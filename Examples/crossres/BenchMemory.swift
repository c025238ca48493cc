import CrossRes
import Foundation

/// Memory (issue 9): a 1,000-step distillation run through the library's own ``TrainingLoop``
/// — prefetching ``BatchLoader`` over synthetic 32×32 faces with 8→32 LR views, frozen
/// SmallFaceNet teacher, SmallFaceNet student with an ArcFace head, L2 + ADDA (critic step and
/// encoder step), a metrics log and a checkpoint every 250 steps — with the resident set sampled
/// every 50 steps. A leak through the tape, the buffer pool, caches or the loader shows as a
/// positive slope; the report gives the first, last and largest sample and the least-squares
/// slope over all samples and over the second half (the steady state).
enum BenchMemory {
    static let steps = 1000, every = 50

    static func cases() -> [BenchCase] {
        [BenchCase(id: "memory.train.1000", workload: "memory: 1000 distillation steps, SmallFaceNet 32×32 b32, L2 + ADDA, loader",
                   variant: "TrainingLoop, RSS every \(every) steps", work: .items(Double(steps), unit: "step"),
                   iterations: 1, warmup: 0) {
            let train = makeRun()
            var round = 0
            return {
                round += 1
                report(train(), round: round)
            }
        }]
    }

    /// Resident set size of this process in MiB (`/proc/self/statm`), if the system reports it.
    static func residentMiB() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// Builds the task and batches once; the closure runs 1,000 steps in a temporary run folder
    /// (removed afterwards) and returns the (step, MiB) samples, step 0 being taken before the first step.
    static func makeRun() -> () -> [(step: Int, mib: Double)] {
        var g = RandomGenerator(seed: 9)
        let faces = SyntheticFaces(identities: 40, imagesPerIdentity: 8, size: 32, seed: 3)
        let options = LoaderOptions(batchSize: 32, shuffle: true, flip: true, prefetch: 2, workers: 1,
                                    degradation: Degradation(target: .size(.fixed(8)), up: .original))
        let batches = LoaderBatches(BatchLoader(dataset: faces, options: options, seed: 1))
        let teacher = SmallFaceNet(embeddingSize: 64, inputSize: 32, using: &g)
        let student = SmallFaceNet(embeddingSize: 64, inputSize: 32, using: &g)
        let head = MarginHead.arcFace(classes: 40, embeddingDimension: 64, using: &g)
        let transfer = WeightedTransferLoss([(5, FeatureL2Transfer()), (0.1, ADDA(embeddingDimension: 64, using: &g))])
        let task = DistillationTask(
            teacher: teacher, student: student, head: head, transfer: transfer,
            optimizer: Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer), learningRate: 1e-3),
            criticOptimizer: Adam(parameters: transfer.criticParameters, learningRate: 1e-4, beta1: 0.5, beta2: 0.9))
        let folder = NSTemporaryDirectory() + "crossres-bench-memory-" + UUID().uuidString
        let train = { () -> [(step: Int, mib: Double)] in
            try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var samples: [(step: Int, mib: Double)] = [(0, residentMiB() ?? .nan)]
            let loop = TrainingLoop(steps: steps, checkpointPath: folder + "/checkpoint.safetensors", checkpointEvery: 250,
                                    log: try! MetricsLog(path: folder + "/metrics.jsonl"), evaluateEvery: every,
                                    evaluate: { step in
                                        let mib = residentMiB() ?? .nan
                                        samples.append((step, mib))
                                        return ["rss_mib": mib]
                                    })
            do { try loop.run(task, batches: batches) } catch { print("memory.train.1000: training failed: \(error)") }
            return samples
        }
        return train
    }

    /// Least-squares slope of `samples` in MiB per 1,000 steps.
    static func slope(_ samples: ArraySlice<(step: Int, mib: Double)>) -> Double {
        let n = Double(samples.count)
        let meanX = samples.reduce(0) { $0 + Double($1.step) } / n, meanY = samples.reduce(0) { $0 + $1.mib } / n
        let sxy = samples.reduce(0) { $0 + (Double($1.step) - meanX) * ($1.mib - meanY) }
        let sxx = samples.reduce(0) { $0 + (Double($1.step) - meanX) * (Double($1.step) - meanX) }
        return sxx > 0 ? sxy / sxx * 1000 : .nan
    }

    static func report(_ samples: [(step: Int, mib: Double)], round: Int) {
        guard samples.count > 2, samples.allSatisfy({ $0.mib.isFinite }) else {
            print("memory.train.1000: resident set size not available on this system")
            return
        }
        let trained = samples.dropFirst()  // after step 50: the pool and the loader are warm
        let all = slope(trained), steady = slope(trained.suffix(trained.count / 2))
        let first = trained.first!.mib, last = trained.last!.mib, largest = trained.map(\.mib).max()!
        print(String(format: "memory.train.1000 (round %d): RSS before %.1f MiB; step %d %.1f MiB, step %d %.1f MiB, max %.1f MiB; slope %+.2f MiB/1000 steps (steps %d–%d), %+.2f MiB/1000 steps in the second half",
                     round, samples[0].mib, trained.first!.step, first, trained.last!.step, last, largest, all,
                     trained.first!.step, trained.last!.step, steady))
        print("  RSS (MiB) by step: " + samples.map { String(format: "%d:%.1f", $0.step, $0.mib) }.joined(separator: " "))
    }
}
