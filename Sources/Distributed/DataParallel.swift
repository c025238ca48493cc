import Foundation
import Tensor
import Optim
import Training

/// A process group is what a trainer needs to run data-parallel (`DistillationTraining.parallelism`).
extension ProcessGroup: DataParallelism {
    /// The group's ``size``.
    public var processCount: Int { size }

    /// `optimizer` wrapped in a ``DistributedOptimizer`` of this group.
    public func distribute(_ optimizer: any Optimizer) throws -> any Optimizer {
        try DistributedOptimizer(optimizer, group: self)
    }

    /// `task` wrapped in a ``DataParallelTask`` of this group.
    public func distribute(_ task: any TrainingTask) -> any TrainingTask {
        DataParallelTask(task, group: self)
    }

    /// This rank's ``ShardedBatches`` of `batches`.
    public func shard(_ batches: any BatchProvider) throws -> any BatchProvider {
        try ShardedBatches(batches, group: self)
    }

    /// Rank 0's integer on every rank.
    public func broadcast(_ value: Int) throws -> Int {
        let bytes = try broadcast(bytes: withUnsafeBytes(of: Int64(value).littleEndian) { Array($0) })
        return Int(bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(as: Int64.self)) })
    }

    /// Makes every rank's `task` identical to rank 0's — every parameter, buffer, optimiser
    /// moment and dropout generator, as a ``Checkpoint`` of rank 0 broadcast and restored — and
    /// returns rank 0's `step`. Call it after building the task (and after rank 0 resumed from a
    /// checkpoint), before training: from then on identical averaged updates keep the ranks
    /// identical (and their dropout streams with them: each rank draws as many numbers a step).
    public func synchronise(_ task: any TrainingTask, step: Int) throws -> Int {
        let root = isRoot ? Checkpoint(capturing: task, step: step) : nil
        let received = try broadcast(root?.tensors ?? [:])
        let generators = try broadcast(bytes: Array((root?.metadata[Checkpoint.generatorsKey] ?? "").utf8))
        let rootStep = try broadcast(step)
        if !isRoot {
            var checkpoint = Checkpoint(capturing: task, step: rootStep)
            checkpoint.tensors = received
            checkpoint.metadata[Checkpoint.generatorsKey] = generators.isEmpty ? nil : String(decoding: generators, as: UTF8.self)
            try checkpoint.restore(task, path: "<rank 0's state>")
        }
        return rootStep
    }

    /// This group's ``ProcessAgreement`` (every collective over the whole group).
    public var processAgreement: ProcessAgreement { agreement(recording: AgreedFailure()) }
}

extension ProcessGroup {
    /// Collective: every rank's `invariants` gathered (one all-gather of their names' hash and
    /// values); unless every value is rank 0's, every rank throws
    /// ``DistributedError/inconsistent(_:)`` — `subject differs between the processes: images
    /// (rank 0: 100, rank 1: 103); …; fix` — so nobody is left waiting.
    public func ensureSame(_ invariants: [RankInvariant], of subject: String, fix: String) throws {
        let names = invariants.map(\.name).joined(separator: "\u{1F}")
        let local = [Int64(bitPattern: Self.fingerprint(names))] + invariants.map { Int64(bitPattern: $0.value) }
        let gathered = try allGather(values: local, width: local.count)
        let odd = gathered.indices.filter { gathered[$0][0] != gathered[0][0] }
        guard odd.isEmpty else {
            throw DistributedError.inconsistent("rank(s) \(odd.map(String.init).joined(separator: ", ")) check other values of \(subject) than rank 0 (\(names.replacingOccurrences(of: "\u{1F}", with: ", "))): run the same crossres build on every process")
        }
        let perRank = gathered.map { values in
            zip(invariants, values.dropFirst()).map { RankInvariant(name: $0.name, value: UInt64(bitPattern: $1), isChecksum: $0.isChecksum) }
        }
        if let differences = RankInvariant.differences(perRank) {
            throw DistributedError.inconsistent("\(subject) differs between the processes: \(differences); \(fix)")
        }
    }
}

extension ProcessGroup {
    /// This rank's part of `count` rows split as evenly as possible (the first `count mod N`
    /// ranks take one row more): rank r gets `r·⌊count/N⌋ + min(r, count mod N)` onwards.
    public func rows(of count: Int) -> Range<Int> {
        precondition(count >= 0, "ProcessGroup.rows: negative count \(count)")
        let share = count / size, extra = count % size
        let start = rank * share + min(rank, extra)
        return start..<(start + share + (rank < extra ? 1 : 0))
    }

    /// `body` of all `count` rows on every rank, each rank computing only its ``rows(of:)`` —
    /// e.g. the embeddings of an evaluation set: `body(range)` returns `[range.count, …]`, and
    /// the parts are gathered in rank order (``allGather(_:)``), so the result is `body(0..<count)`.
    public func computeRows(_ count: Int, _ body: (Range<Int>) throws -> Tensor) throws -> Tensor {
        let part = try body(rows(of: count))
        precondition(part.rank >= 1 && part.shape[0] == rows(of: count).count,
                     "ProcessGroup.computeRows: rows \(rows(of: count)) gave a tensor of shape \(part.shape)")
        return try allGather(part)
    }
}

extension TrainingLoop {
    /// This loop as rank `group.rank` runs it: rank 0 keeps the metrics log, progress,
    /// evaluation, checkpoints, the critic-collapse watch and the warnings; the other ranks only
    /// train (every rank holds the same weights, so rank 0's checkpoint is the run's).
    public func onRank(of group: ProcessGroup) -> TrainingLoop {
        onRank(isRoot: group.isRoot)
    }

    /// This loop on rank 0 (`isRoot`, unchanged) or on another rank: without checkpoints, log,
    /// progress, evaluation, warnings and critic-collapse watch. Rank 0's work after each step —
    /// including a collapse stop — is agreed with every rank (``ProcessAgreement/together(_:_:)``
    /// over the task's agreement), so a stop there stops every rank at the same step, naming rank
    /// 0's error and checkpoint (only rank 0's count of pinned steps is restored on resume).
    public func onRank(isRoot: Bool) -> TrainingLoop {
        guard !isRoot else { return self }
        var loop = self
        loop.checkpointPath = nil
        loop.log = nil
        loop.progress = nil
        loop.evaluate = nil
        loop.evaluateEvery = nil
        loop.warn = { _ in }
        loop.criticCollapse = nil
        return loop
    }
}
