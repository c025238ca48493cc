/// What can go wrong in a data-parallel run.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// An MPI call returned an error code (the process group sets `MPI_ERRORS_RETURN`, so
    /// errors come back as codes instead of aborting): the call, the code and MPI's string.
    case mpi(call: String, code: Int32, message: String)
    /// The ranks do not run the same configuration (rank 0's hash is the reference).
    case configurationMismatch(ranks: [Int], detail: String)
    /// The global batch does not split into equal shards.
    case indivisibleBatch(batch: Int, processes: Int)
    /// The last, smaller batch of each epoch (`samples mod batch` rows, kept when the loader's
    /// `dropLast` is off) does not split into equal shards.
    case indivisibleLastBatch(samples: Int, batch: Int, processes: Int)
    /// Data that should be identical on every rank is not (shapes, keys, counts).
    case inconsistent(String)
    /// A collective timeout that is not a number of seconds ≥ 0 or `off`; `source` is where it
    /// came from (the environment variable).
    case invalidCollectiveTimeout(value: String, source: String)

    public var description: String {
        switch self {
        case let .mpi(call, code, message):
            return "MPI error in \(call) (code \(code)): \(message)"
        case let .configurationMismatch(ranks, detail):
            return "the processes run different configurations: rank(s) \(ranks.map(String.init).joined(separator: ", ")) differ from rank 0 (\(detail)); start every rank with the same settings"
        case let .indivisibleBatch(batch, processes):
            return "the global batch \(batch) does not split evenly over \(processes) processes; choose a batch that is a multiple of \(processes)"
        case let .indivisibleLastBatch(samples, batch, processes):
            // With `processes` dividing `batch`, (samples mod batch) mod processes = samples mod
            // processes: no other batch size that splits evenly avoids the remainder.
            return "the last batch of each epoch has \(samples % batch) rows (\(samples) samples mod batch \(batch), kept because dropLast is off), which do not split evenly over \(processes) processes, and no other batch size can fix that (\(samples) samples leave \(samples % processes) over any multiple of \(processes)); turn dropLast on (LoaderOptions.dropLast) to skip the last batch of each epoch, or use a number of samples that is a multiple of \(processes)"
        case let .inconsistent(detail):
            return "ranks disagree: \(detail)"
        case let .invalidCollectiveTimeout(value, source):
            return "\(source)='\(value)' is not a collective timeout: give the seconds a collective may wait for the other ranks before the job is aborted (default 1800, 30 minutes), or 0 or off for no timeout"
        }
    }
}
