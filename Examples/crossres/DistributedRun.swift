import CrossRes
import Distributed
import Foundation

/// `--distributed`, shared by `train-teacher` and `distill`: the option, its help notes, and the
/// MPI wrapper around a training run.
enum DistributedRun {
    static let option = ConfigurationOption(
        "distributed", .flag, "",
        "data-parallel over the processes of mpirun -np N: --batch is the global batch (a multiple of N), rank 0 writes the run folder")

    static func notes(_ command: String) -> [String] {
        ["--distributed: mpirun -np 2 --oversubscribe --allow-run-as-root crossres \(command) ... --distributed (see Docs/Distributed.md);",
         "a checkpoint resumes under any process count that divides --batch."]
    }

    /// Reads the run's settings and runs `train` on every process of `mpirun`: the settings and
    /// the run folder must be the same on every rank, and an error on any rank stops them all
    /// with its message. `batch` reads the global batch from the settings.
    static func run<C: RunConfiguration>(_ command: String, _ type: C.Type, _ invocation: Invocation, batch: (C) -> Int,
                                         _ train: (_ run: RunFolderOptions.TrainingRun<C>, _ group: ProcessGroup) throws -> Void) throws {
        let group = try ProcessGroup.world()
        do {
            let run = try RunFolderOptions.trainingRun(type, invocation)
            try group.ensureSameConfiguration(String(decoding: try run.configuration.jsonData(), as: UTF8.self) + "\n" + run.output)
            let global = batch(run.configuration)
            if group.isRoot {
                print("data-parallel over \(group.size) process(es): global batch \(global), \(global / max(group.size, 1)) per process")
            }
            try train(run, group)
            try group.finalize()
        } catch {
            group.abort("crossres \(command): \(error)")
        }
    }
}
