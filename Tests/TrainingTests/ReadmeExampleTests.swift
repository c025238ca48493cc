import Testing
import CrossRes
import TestSupport

/// The library example of README.md between the markers (keep them in sync; the README runs
/// 1000 steps), run
/// for a few steps on a tiny synthetic set.
@Test func readmeExampleRuns() throws {
    let steps = 3
    // README-BEGIN
    var rng = RandomGenerator(seed: 1)
    let faces = SyntheticFaces(identities: 20, imagesPerIdentity: 8, size: 32, seed: 7)

    let teacher = SmallFaceNet(embeddingSize: 128, using: &rng)   // trained on HR faces beforehand
    let student = SmallFaceNet(embeddingSize: 128, using: &rng)   // its own initialisation
    let head = MarginHead.cosFace(classes: faces.identityCount, embeddingDimension: 128, scale: 30, using: &rng)
    let transfer = WeightedTransferLoss([(5, FeatureL2Transfer()),                        // seed item 1
                                         (50, NeuronSelectivityTransfer(map: "stage2"))]) // NST on a feature map

    let optimizer = Adam(parameters: DistillationTask.studentParameters(student: student, head: head, transfer: transfer),
                         learningRate: 2e-3)
    let task = DistillationTask(teacher: teacher, student: student, head: head, transfer: transfer, optimizer: optimizer)

    let lowResolution = try Degradation(parsing: "size=8..16,interp=bicubic,blur=0..0.6,up=32")
    let loader = BatchLoader(dataset: faces, options: LoaderOptions(batchSize: 32, flip: true, degradation: lowResolution), seed: 1)
    try TrainingLoop(steps: steps, progress: ProgressReporter(label: "student", total: steps))
        .run(task, batches: LoaderBatches(loader))
    // README-END
    #expect(task.optimizer.stepCount == steps)
}

/// `Examples/CustomTransferLoss` (Docs/TransferLosses.md) runs to its end: its composed loss's
/// gradient passes the checker, the spec-built twin agrees, and its check reports the short batch.
@Test(.enabled(if: builtExecutable("CustomTransferLoss") != nil, "the CustomTransferLoss example was not built next to the test bundle"))
func customTransferLossExampleRuns() throws {
    let result = try Subprocess.run(builtExecutable("CustomTransferLoss")!.path, [], timeout: 120)
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.combined.contains("GradientCheck passed"))
    #expect(result.combined.contains("checked before computing: darkrank-soft: needs a batch of at least 4 samples"))
}
