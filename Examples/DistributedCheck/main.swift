import Foundation
import Tensor
import Layers
import Optim
import Losses
import Training
import Distributed

// DistributedCheck: a small BN-free data-parallel run for the Distributed module's tests and
// benchmark. Start it directly (one process) or under `mpirun -np N`:
//
//   DistributedCheck train --steps 8 --batch 8 --weights w.safetensors [--checkpoint c.safetensors]
//                          [--checkpoint-every K] [--resume] [--model perceptron|smallfacenet] [--optimizer sgd|adam]
//                          [--dropout P]         (perceptron: dropout between its layers, each rank drawing its masks)
//                          [--replicas PREFIX]   (every rank writes PREFIX.<rank>.safetensors)
//                          [--sync-batchnorm]    (smallfacenet: BatchNorm with the global batch's statistics)
//                          [--log metrics.jsonl] (rank 0's metrics log)
//                          [--nan-rank R --nan-at-step S]  (rank R's rows are NaN at its step S: every rank must stop
//                                                           at that step, naming rank 0's last checkpoint)
//   DistributedCheck gate --gate G [--steps 3] [--batch 8] [--sync-batchnorm]
//                                         (ADDA with an encoder gate, rank 0's critic accuracy 0.9, the others'
//                                          0.3: the ranks must take the gate decision of the mean accuracy together)
//   DistributedCheck bench --steps 30 --batch 64 [--model perceptron|smallfacenet] [--width 256]
//   DistributedCheck collectives          (prints the results of each collective)
//   DistributedCheck bench-collectives [--iterations 100000] [--floats 4]
//                                         (microseconds per all-reduce of a few floats, in a tight loop)
//   DistributedCheck stall [--rank R] [--seconds S]
//                                         (rank R sleeps S seconds (default 300) before an all-reduce of 3 floats:
//                                          with CROSSRES_COLLECTIVE_TIMEOUT < S the other ranks' watchdog ends the job)
//   DistributedCheck mismatch             (every rank a different seed: must stop with a message)
//   DistributedCheck fail --rank R [--how throw|kill] [--at-step S] [train flags]
//                                         (rank R throws, or is killed, at its step S (default 2): every rank must end)
//   DistributedCheck teacher --output DIR [--steps 2] [--seed 0] [--resume] [--overwrite]
//   DistributedCheck distill --teacher DIR --output DIR [--steps 2] [--resume]
//                                         (TeacherTraining / DistillationTraining, SmallFaceNet on 16 tiny synthetic faces:
//                                          a check that stops the run must stop every rank, each printing its error)
//   train ... --report-stop               (an error must stop every rank: each prints it and waits for the others)

/// The run's settings, `--name value` pairs.
struct Settings {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) throws {
        var rest = arguments
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--") else { throw CheckError("unexpected argument '\(flag)'") }
            let name = String(flag.dropFirst(2))
            if ["resume", "sync-batchnorm", "overwrite", "report-stop"].contains(name) { values[name] = "true"; continue }
            guard let value = rest.popFirst() else { throw CheckError("\(flag) needs a value") }
            values[name] = value
        }
    }

    func integer(_ name: String, _ fallback: Int) throws -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { throw CheckError("--\(name) needs an integer, got '\(text)'") }
        return value
    }
}

struct CheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A two-layer tanh perceptron: no BatchNorm, so N shards of B/N rows give exactly the
/// gradient of the global batch B (without dropout, whose masks each rank draws for its rows).
final class Perceptron: Module {
    let hidden: Linear
    let output: Linear
    let dropout: Dropout

    init(inputs: Int, width: Int, outputs: Int, dropout probability: Float, using generator: inout RandomGenerator) {
        hidden = Linear(inputs, width, using: &generator)
        output = Linear(width, outputs, using: &generator)
        dropout = Dropout(probability: probability, using: &generator)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { output(dropout(hidden(x.flattened()).tanh())) }
}

/// A fixed regression problem: `count` inputs of shape `[C, H, W]` and `outputs` targets of a
/// random teacher function; each epoch visits the samples in a seeded permutation, `batch` per step.
struct RegressionBatches: BatchProvider {
    let inputs: Tensor, targets: Tensor
    let batch: Int, seed: UInt64

    init(count: Int, inputs shape: [Int], outputs: Int, batch: Int, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        inputs = Tensor.randomNormal([count] + shape, using: &generator)
        let projection = Tensor.randomNormal([shape.reduce(1, *), outputs], using: &generator)
        targets = (inputs.flattened().matmul(projection) * 0.5).sin()
        self.batch = batch
        self.seed = seed
    }

    var batchesPerEpoch: Int { inputs.shape[0] / batch }

    func batch(atStep step: Int) throws -> TrainingBatch {
        let epoch = step / batchesPerEpoch, index = step % batchesPerEpoch
        var order = Array(0..<inputs.shape[0])
        var generator = RandomGenerator(seed: seed &+ 0x9E37 &* UInt64(epoch + 1))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        let rows = Array(order[(index * batch)..<((index + 1) * batch)])
        let x = inputs.indexSelect(axis: 0, rows), y = targets.indexSelect(axis: 0, rows)
        return TrainingBatch(highResolution: x, lowResolution: y.reshaped(to: [batch, y.shape[1], 1, 1]), labels: rows, indices: rows)
    }
}

/// A failure on purpose: rank `rank` throws (or is killed) when it starts its `step`-th step.
struct Failure {
    let rank: Int, kill: Bool, step: Int
}

/// NaN on purpose: rank `rank`'s rows are NaN at its `step`-th step.
struct Poison {
    let rank: Int, step: Int
}

/// Mean squared error of a model on a batch (inputs in the HR view, targets in the LR view),
/// with the library's NaN/Inf guards.
final class RegressionTask: TrainingTask {
    let model: any Module
    let forward: (Tensor) -> Tensor
    let optimizer: any Optimizer
    let failure: Failure?, poison: Poison?, rank: Int
    private var steps = 0

    init(model: any Module, forward: @escaping (Tensor) -> Tensor, optimizer: any Optimizer, failure: Failure? = nil,
         poison: Poison? = nil, rank: Int = 0) {
        self.model = model
        self.forward = forward
        self.optimizer = optimizer
        self.failure = failure
        self.poison = poison
        self.rank = rank
    }

    var checkpointedModules: [(name: String, module: any Module)] { [("model", model)] }
    var optimizers: [(name: String, optimizer: any Optimizer)] { [("optimizer", optimizer)] }

    func step(_ batch: TrainingBatch, progress: Float) throws -> [(name: String, value: Float)] {
        steps += 1
        if let failure, failure.rank == rank, steps == failure.step {
            if failure.kill { kill(getpid(), SIGKILL) }
            throw CheckError("rank \(rank) fails on purpose at its step \(steps)")
        }
        model.isTraining = true
        let poisoned = poison.map { $0.rank == rank && $0.step == steps } ?? false
        let inputs = poisoned ? batch.highResolution * Float.nan : batch.highResolution
        let loss = (forward(inputs) - batch.lowResolution.flattened()).square().mean()
        let terms = [(name: "mse", value: loss.item)]
        try ensureFinite(terms)
        let gradients = loss.backward(retaining: .leaves)
        try ensureFinite(gradients, updatedBy: optimizer, in: checkpointedModules)
        optimizer.step(gradients)
        return terms
    }
}

/// Builds the model, data and optimiser of a run, identical on every rank.
func makeTask(_ settings: Settings, group: ProcessGroup, failure: Failure? = nil, poison: Poison? = nil) throws -> (RegressionTask, ShardedBatches, batch: Int) {
    let batch = try settings.integer("batch", 8), width = try settings.integer("width", 32)
    let seedValue = try settings.integer("seed", 7)
    guard batch >= 1 && width >= 1 && seedValue >= 0 else {
        throw CheckError("--batch and --width must be positive and --seed non-negative, got \(batch), \(width) and \(seedValue)")
    }
    let seed = UInt64(seedValue)
    var generator = RandomGenerator(seed: seed)
    let model: any Module, forward: (Tensor) -> Tensor, inputs: [Int], outputs: Int
    switch settings.values["model"] ?? "perceptron" {
    case "perceptron":
        let dropout = settings.values["dropout"].map { Float($0) } ?? 0
        guard let dropout, dropout >= 0 && dropout < 1 else { throw CheckError("--dropout must be a number in [0, 1), got \(settings.values["dropout"] ?? "")") }
        let perceptron = Perceptron(inputs: 16, width: width, outputs: 4, dropout: dropout, using: &generator)
        (model, forward, inputs, outputs) = (perceptron, { perceptron($0) }, [16, 1, 1], 4)
    case "smallfacenet":  // has BatchNorm: per-rank statistics unless --sync-batchnorm
        guard settings.values["dropout"] == nil else { throw CheckError("--dropout is the perceptron's") }
        let network = SmallFaceNet(embeddingSize: 32, inputSize: 32, using: &generator)
        if settings.values["sync-batchnorm"] != nil { group.synchroniseBatchNorm(in: network) }
        (model, forward, inputs, outputs) = (network, { network.features($0).embedding }, [3, 32, 32], 32)
    case let other: throw CheckError("unknown --model '\(other)' (perceptron or smallfacenet)")
    }
    let inner: any Optimizer
    switch settings.values["optimizer"] ?? "sgd" {
    case "sgd": inner = SGD(parameters: model.parameters(), learningRate: 0.05, momentum: 0.9)
    case "adam": inner = Adam(parameters: model.parameters(), learningRate: 1e-2)
    case let other: throw CheckError("unknown --optimizer '\(other)' (sgd or adam)")
    }
    let optimizer = try DistributedOptimizer(inner, group: group)
    let data = RegressionBatches(count: max(64, 4 * batch), inputs: inputs, outputs: outputs, batch: batch, seed: seed &+ 1)
    return (RegressionTask(model: model, forward: forward, optimizer: optimizer, failure: failure, poison: poison, rank: group.rank),
            try ShardedBatches(data, group: group), batch)
}

/// `train`: the acceptance runs (global batch B on N processes; checkpoints; resume).
func train(_ settings: Settings, group: ProcessGroup) throws {
    let steps = try settings.integer("steps", 8)
    let configuration = settings.values.filter { !["resume", "checkpoint-every", "weights", "replicas"].contains($0.key) }
        .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    try group.ensureSameConfiguration(configuration)
    let failure = try settings.values["fail-rank"].flatMap(Int.init).map {
        Failure(rank: $0, kill: settings.values["how"] == "kill", step: try settings.integer("at-step", 2))
    }
    let poison = try settings.values["nan-rank"].flatMap(Int.init).map { Poison(rank: $0, step: try settings.integer("nan-at-step", 2)) }
    let (regression, batches, _) = try makeTask(settings, group: group, failure: failure, poison: poison)
    let task = DataParallelTask(regression, group: group)
    let checkpoint = settings.values["checkpoint"]
    var start = 0
    try ProcessAgreement.together(group.processAgreement) {  // (rank 0 reads the checkpoint: every rank stops on its error)
        if settings.values["resume"] != nil, let checkpoint, group.isRoot { start = try TrainingLoop.resume(task, from: checkpoint) }
    }
    start = try group.synchronise(task, step: start)
    let log = try settings.values["log"].flatMap { group.isRoot ? try MetricsLog(path: $0) : nil }
    let loop = TrainingLoop(steps: steps, checkpointPath: checkpoint, checkpointEvery: try settings.integer("checkpoint-every", steps), log: log)
        .onRank(of: group)
    // The injected NaN (or, with --report-stop, a failure) stops every rank at the same step.
    let summary = try reportingStop(group, if: poison != nil || settings.values["report-stop"] != nil) {
        try loop.run(task, batches: batches, startStep: start)
    }
    if group.isRoot, let weights = settings.values["weights"] {
        try regression.model.saveStateDict(to: URL(fileURLWithPath: weights))
    }
    if let prefix = settings.values["replicas"] {
        try regression.model.saveStateDict(to: URL(fileURLWithPath: "\(prefix).\(group.rank).safetensors"))
    }
    if group.isRoot {
        print("trained steps \(start)..<\(steps) on \(group.size) process(es); mse \(summary.lastTerms.first?.value ?? .nan)")
    }
}

/// `body`'s value; with `reporting`, an error it throws is printed by each rank (`rank R stopped:
/// …`), which waits at a barrier for the others to have printed theirs before it rethrows (the
/// first abort ends the job): an error every rank throws together shows on every rank, one
/// rank's alone leaves it waiting at the barrier (a test's timeout).
func reportingStop<Value>(_ group: ProcessGroup, if reporting: Bool = true, _ body: () throws -> Value) throws -> Value {
    do { return try body() } catch where reporting {
        FileHandle.standardError.write(Data("rank \(group.rank) stopped: \(error)\n".utf8))
        try group.barrier()
        throw error
    }
}

/// The settings of `teacher` and `distill`: SmallFaceNet at 16×16 on 16 synthetic faces, global batch 8.
func trainingSettings(_ settings: Settings) throws -> TrainingConfiguration {
    var training = TrainingConfiguration()
    training.data = "synthetic:identities=4,images=4,size=16"
    training.inputSize = 16
    training.embeddingSize = 8
    training.batch = 8
    let steps = try settings.integer("steps", 2), seed = try settings.integer("seed", 0)
    guard steps >= 1 && seed >= 0 else { throw CheckError("--steps must be positive and --seed non-negative, got \(steps) and \(seed)") }
    training.steps = steps
    training.seed = UInt64(seed)
    training.checkpointEvery = 1
    return training
}

/// `teacher` and `distill`: the library's trainers data-parallel over the group, every rank
/// reporting the error that stops them.
func trainer(_ command: String, _ settings: Settings, group: ProcessGroup) throws {
    guard let output = settings.values["output"] else { throw CheckError("\(command) needs --output <folder>") }
    let resume = settings.values["resume"] != nil, overwrite = settings.values["overwrite"] != nil
    try reportingStop(group) {
        if command == "teacher" {
            var training = try TeacherTraining(configuration: try trainingSettings(settings))
            training.parallelism = group
            training.say = { _ in }
            try training.run(output: output, overwrite: overwrite, resume: resume)
        } else {
            var configuration = DistillationConfiguration()
            configuration.training = try trainingSettings(settings)
            configuration.teacher = settings.values["teacher"]
            configuration.transfer = "l2=5"
            configuration.degrade = "size=8,up=16"
            var training = try DistillationTraining(configuration: configuration)
            training.parallelism = group
            training.say = { _ in }
            try training.run(output: output, overwrite: overwrite, resume: resume)
        }
    }
    if group.isRoot { print("\(command) trained into \(output) on \(group.size) process(es)") }
}

/// An ADDA term whose critic accuracy is fixed per rank (rank 0: 0.9, the others: 0.3), so the
/// ranks' shard accuracies straddle any gate between them; otherwise ADDA's objectives.
final class RankedAccuracyADDA: AdversarialTransferLoss {
    let name = "adda"
    let adda: ADDA
    let accuracy: Float
    init(_ adda: ADDA, accuracy: Float) {
        self.adda = adda
        self.accuracy = accuracy
    }
    func callAsFunction(_ context: TransferContext) -> Tensor { adda(context) }
    func criticLoss(_ context: TransferContext) -> Tensor { adda.criticLoss(context) }
    var criticParameters: [Parameter] { adda.criticParameters }
    func criticAccuracy(_ context: TransferContext) -> Float? { accuracy }
}

/// Both views are the HR inputs (a SmallFaceNet student and teacher of the same input size).
struct SameViewBatches: BatchProvider {
    let base: RegressionBatches
    var batchesPerEpoch: Int { base.batchesPerEpoch }
    func batch(atStep step: Int) throws -> TrainingBatch {
        let batch = try base.batch(atStep: step)
        return TrainingBatch(highResolution: batch.highResolution, lowResolution: batch.highResolution, labels: batch.labels, indices: batch.indices)
    }
}

/// `gate`: a data-parallel ADDA distillation (SmallFaceNet student, no identity head) with an
/// encoder gate between the ranks' critic accuracies; rank 0 prints the last step's terms (with
/// `adda` when the gate was open). A per-rank gate sends the ranks down different branches —
/// with synchronised BatchNorm, one rank's backward all-reduce against another's gradient
/// all-reduce.
func gate(_ settings: Settings, group: ProcessGroup) throws {
    guard let threshold = settings.values["gate"].flatMap(Float.init) else { throw CheckError("gate needs --gate <accuracy>") }
    let steps = try settings.integer("steps", 3), batch = try settings.integer("batch", 8)
    try group.ensureSameConfiguration(settings.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
    var generator = RandomGenerator(seed: 7)
    let teacher = SmallFaceNet(embeddingSize: 32, inputSize: 32, using: &generator)
    let student = SmallFaceNet(embeddingSize: 32, inputSize: 32, using: &generator)
    if settings.values["sync-batchnorm"] != nil { group.synchroniseBatchNorm(in: student) }
    let transfer = WeightedTransferLoss([(1, RankedAccuracyADDA(ADDA(embeddingDimension: 32, using: &generator),
                                                                accuracy: group.rank == 0 ? 0.9 : 0.3))])
    let optimizer = try DistributedOptimizer(SGD(parameters: DistillationTask.studentParameters(student: student, head: nil, transfer: transfer),
                                                 learningRate: 0.01), group: group)
    let critic = try DistributedOptimizer(Adam(parameters: transfer.criticParameters, learningRate: 1e-4, beta1: 0.5, beta2: 0.9), group: group)
    let distillation = DistillationTask(teacher: teacher, student: student, head: nil, transfer: transfer, optimizer: optimizer,
                                        criticOptimizer: critic, encoderGate: threshold)
    let task = DataParallelTask(distillation, group: group)
    _ = try group.synchronise(task, step: 0)
    let data = RegressionBatches(count: 64, inputs: [3, 32, 32], outputs: 1, batch: batch, seed: 8)
    let batches = try ShardedBatches(SameViewBatches(base: data), group: group)
    let summary = try TrainingLoop(steps: steps).onRank(of: group).run(task, batches: batches)
    if let prefix = settings.values["replicas"] {
        try student.saveStateDict(to: URL(fileURLWithPath: "\(prefix).\(group.rank).safetensors"))
    }
    if group.isRoot {
        print("gate \(threshold): \(steps) steps on \(group.size) process(es); terms "
              + summary.lastTerms.map { "\($0.name)=\($0.value)" }.joined(separator: " "))
    }
}

/// `bench`: images (rows) per second of the whole job at a fixed global batch.
func bench(_ settings: Settings, group: ProcessGroup) throws {
    let steps = try settings.integer("steps", 30), warmup = 3
    let (regression, batches, batch) = try makeTask(settings, group: group)
    let task = DataParallelTask(regression, group: group)
    _ = try group.synchronise(task, step: 0)
    _ = try TrainingLoop(steps: warmup).run(task, batches: batches)
    try group.barrier()
    let started = Date()
    _ = try TrainingLoop(steps: warmup + steps).run(task, batches: batches, startStep: warmup)
    try group.barrier()
    let seconds = Date().timeIntervalSince(started)
    if group.isRoot {
        print(String(format: "{\"processes\": %d, \"model\": \"%@\", \"batch\": %d, \"steps\": %d, \"seconds\": %.4f, \"rowsPerSecond\": %.1f}",
                     group.size, settings.values["model"] ?? "perceptron", batch, steps, seconds, Double(steps * batch) / seconds))
    }
}

/// `bench-collectives`: the time of one small all-reduce (the per-call cost of the
/// `ProcessGroup` wrapper around `MPI_Allreduce`), over `--iterations` calls after 1000 warm-up calls.
func benchCollectives(_ settings: Settings, group: ProcessGroup) throws {
    let iterations = try settings.integer("iterations", 100_000), floats = try settings.integer("floats", 4)
    guard iterations >= 1 && floats >= 1 else { throw CheckError("--iterations and --floats must be positive, got \(iterations) and \(floats)") }
    var values = [Float](repeating: 0, count: floats)  // sums of zeros stay zero
    let seconds = try values.withUnsafeMutableBufferPointer { buffer in
        for _ in 0..<1000 { try group.allReduceSum(buffer) }
        try group.barrier()
        let clock = ContinuousClock(), started = clock.now
        for _ in 0..<iterations { try group.allReduceSum(buffer) }
        let elapsed = clock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    if group.isRoot {
        print(String(format: "{\"processes\": %d, \"floats\": %d, \"iterations\": %d, \"microsecondsPerAllReduce\": %.3f}",
                     group.size, floats, iterations, seconds * 1e6 / Double(iterations)))
    }
}

/// `stall`: rank `--rank` (default 1) sleeps `--seconds` (default 300) before an all-reduce that the
/// other ranks enter at once — a rank stuck before a collective. The collective timeout
/// (`CROSSRES_COLLECTIVE_TIMEOUT`, read when the group is made) must end the job.
func stall(_ settings: Settings, group: ProcessGroup) throws {
    let stalled = try settings.integer("rank", 1), seconds = try settings.integer("seconds", 300)
    guard seconds >= 0 else { throw CheckError("--seconds must not be negative, got \(seconds)") }
    if group.rank == stalled { sleep(UInt32(seconds)) }
    var values: [Float] = [1, 2, 3]
    try values.withUnsafeMutableBufferPointer { try group.allReduceSum($0) }
    if group.isRoot { print("stall: all-reduce \(values) after rank \(stalled) slept \(seconds) s") }
}

/// `collectives`: each collective on rank-dependent data, results printed by rank 0.
func collectives(group: ProcessGroup) throws {
    var values: [Float] = [Float(group.rank + 1), 10]
    try values.withUnsafeMutableBufferPointer { try group.allReduceSum($0) }
    let broadcast = try group.broadcast(Tensor([Float(group.rank + 5), 1]))
    let gathered = try group.allGather(Tensor(shape: [group.rank + 1, 2], scalars: Array(repeating: Float(group.rank), count: 2 * (group.rank + 1))))
    let squares = try group.computeRows(5) { range in Tensor(shape: [range.count, 1], scalars: range.map { Float($0 * $0) }) }
    try group.barrier()
    try group.ensureSameConfiguration("same")
    var invalid: [Float] = [0]
    let error = invalid.withUnsafeMutableBufferPointer { buffer in
        Result { try group.broadcast(buffer, root: group.size) }  // no such rank: MPI_ERR_ROOT, returned as an error
    }
    if group.isRoot {
        print("size \(group.size)")
        print("allReduceSum \(values)")
        print("broadcast \(broadcast.scalars)")
        print("allGather \(gathered.shape) \(gathered.scalars)")
        print("computeRows \(squares.shape) \(squares.scalars)")
        if case .failure(let error) = error { print("invalid root: \(error)") }
    }
}

let arguments = CommandLine.arguments
let group: ProcessGroup
do { group = try ProcessGroup.world(collectiveTimeout: try CollectiveTimeout.environment()) } catch {
    FileHandle.standardError.write(Data("DistributedCheck: \(error)\n".utf8))
    exit(1)
}
do {
    guard arguments.count >= 2 else { throw CheckError("usage: DistributedCheck train|bench|bench-collectives|gate|collectives|stall|mismatch|fail|teacher|distill [--flag value]...") }
    var settings = try Settings(arguments.dropFirst(2))
    switch arguments[1] {
    case "train": try train(settings, group: group)
    case "bench": try bench(settings, group: group)
    case "gate": try gate(settings, group: group)
    case "collectives": try collectives(group: group)
    case "stall": try stall(settings, group: group)
    case "bench-collectives": try benchCollectives(settings, group: group)
    case "teacher", "distill": try trainer(arguments[1], settings, group: group)
    case "mismatch":
        settings.values["seed"] = String(7 + group.rank)
        try train(settings, group: group)
    case "fail":
        settings.values["fail-rank"] = settings.values["rank"] ?? "1"
        settings.values["rank"] = nil
        try train(settings, group: group)
    default: throw CheckError("unknown mode '\(arguments[1])'")
    }
    try group.finalize()
} catch {
    group.abort("DistributedCheck: \(error)")
}
