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
         "a checkpoint resumes under any process count that divides --batch. A collective that waits longer than",
         "CROSSRES_COLLECTIVE_TIMEOUT seconds (default 1800; 0 or off: no limit) for another rank aborts the job."]
    }

    /// The collective timeout `CROSSRES_COLLECTIVE_TIMEOUT` sets (default 30 minutes); a value
    /// that is not seconds, 0 or `off` is refused (exit status 2).
    static func collectiveTimeout(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CollectiveTimeout {
        do { return try CollectiveTimeout.environment(environment) } catch { throw CommandLineError(error.description) }
    }

    /// The number of processes `mpirun` started this one among, read from the environment
    /// (Open MPI's `OMPI_COMM_WORLD_SIZE`, MPICH's and Hydra's `PMI_SIZE`), with the variable;
    /// `nil` when neither is set.
    static func launchedProcesses(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> (count: Int, variable: String)? {
        for variable in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
            if let value = environment[variable], let count = Int(value.trimmingCharacters(in: .whitespaces)) { return (count, variable) }
        }
        return nil
    }

    /// Refuses a run without `--distributed` in a process that `mpirun` started as one of
    /// several: each would train the whole run on its own, all racing to write the same
    /// `--output` (exit status 2).
    /// `CROSSRES_INDEPENDENT_RANKS=1` allows it, for a sweep of independent runs started
    /// together (each with its own `--output`, e.g. from `$OMPI_COMM_WORLD_RANK`).
    static func checkSingleProcess(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let (count, variable) = launchedProcesses(environment), count > 1,
              environment["CROSSRES_INDEPENDENT_RANKS"] != "1" else { return }
        throw CommandLineError("started by mpirun with \(count) processes (\(variable)=\(count)) but without --distributed, so each would train the same run on its own and write the same --output: add --distributed, or run one process (mpirun -np 1, or no mpirun); for independent runs with their own --output, set CROSSRES_INDEPENDENT_RANKS=1")
    }

    /// Reads the run's settings and runs `train` on every process of `mpirun`: the settings and
    /// the run folder must be the same on every rank, and an error on any rank stops them all
    /// with its message. `training` reads the training settings (the global batch) from the settings.
    ///
    /// The settings are read before MPI starts: their errors (a missing `--output`, `--resume`
    /// with `--force`, a bad value) end each process as they do without `--distributed`, with
    /// the same exit status, instead of an `MPI_Abort` (status 1) under Open MPI's banner.
    static func run<C: RunConfiguration>(_ command: String, _ type: C.Type, _ invocation: Invocation, training: (C) -> TrainingConfiguration,
                                         _ train: (_ run: RunFolderOptions.TrainingRun<C>, _ group: ProcessGroup) throws -> Void) throws {
        let timeout = try collectiveTimeout()
        let run = try RunFolderOptions.trainingRun(type, invocation)
        let group = try ProcessGroup.world(collectiveTimeout: timeout)
        do {
            try group.ensureSameConfiguration(String(decoding: try run.configuration.jsonData(), as: UTF8.self) + "\n" + run.output)
            let global = training(run.configuration).batch
            try training(run.configuration).checkBatchSplits(over: group.size)  // (before the line that splits it)
            if group.isRoot {
                print("data-parallel over \(group.size) process(es): global batch \(global), \(global / max(group.size, 1)) per process")
            }
            try train(run, group)
            try group.finalize()
        } catch {
            group.abort("crossres \(command): \(error)", grace: 5)  // (rank 0 puts the output folder in order first)
        }
    }
}
