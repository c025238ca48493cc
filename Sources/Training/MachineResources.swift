import Foundation

/// What the machine gives a run: the memory this process may use (the physical memory, or a
/// container's or Slurm job's cgroup limit when smaller) and how many processes of the run share
/// it. Every reader takes its input (file contents, the environment) as a parameter, and ignores
/// what is absent, unreadable or garbled.
public enum MachineResources {
    /// The memory this process may use, in bytes, and the cgroup limit when that is what set it.
    public static var memory: (bytes: Int, cgroupLimit: Int?) {
        memory(physical: ProcessInfo.processInfo.physicalMemory, cgroupLimit: cgroupMemoryLimit(readFile: readSmallFile))
    }

    /// The smaller of `physical` and `cgroupLimit`, and the limit when it is the smaller.
    public static func memory(physical: UInt64, cgroupLimit: Int?) -> (bytes: Int, cgroupLimit: Int?) {
        let physical = Int(clamping: physical)
        guard let cgroupLimit, cgroupLimit < physical else { return (physical, nil) }
        return (cgroupLimit, cgroupLimit)
    }

    /// The tightest memory limit of this process's cgroup and its ancestors (`nil`: none), read
    /// through `readFile` (path → contents; `nil` when it cannot be read): cgroup v2's
    /// `memory.max` under `/sys/fs/cgroup` ("max": none) and cgroup v1's `memory.limit_in_bytes`
    /// under `/sys/fs/cgroup/memory` (2⁶⁰ or more: none), at the mount's root (a container's own
    /// cgroup) and along the process's path in `/proc/self/cgroup` (a Slurm job's step).
    public static func cgroupMemoryLimit(readFile: (String) -> String?) -> Int? {
        let membership = (readFile("/proc/self/cgroup") ?? "").split(separator: "\n").map { $0.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false) }
        // "0::/path" (v2), "4:memory:/path" or "4:cpu,memory:/path" (v1).
        let v2 = membership.first { $0.count == 3 && $0[0] == "0" && $0[1].isEmpty }.map { String($0[2]) }
        let v1 = membership.first { $0.count == 3 && $0[1].split(separator: ",").contains("memory") }.map { String($0[2]) }
        let limits = directories(under: "/sys/fs/cgroup", along: v2).compactMap { readFile($0 + "/memory.max").flatMap(cgroupV2Limit) }
            + directories(under: "/sys/fs/cgroup/memory", along: v1).compactMap { readFile($0 + "/memory.limit_in_bytes").flatMap(cgroupV1Limit) }
        return limits.min()
    }

    /// The limit in a cgroup v2 `memory.max`: bytes, or "max" for none (`nil` also for garbage).
    public static func cgroupV2Limit(_ contents: String) -> Int? {
        guard let bytes = Int(contents.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0 else { return nil }
        return bytes
    }

    /// The limit in a cgroup v1 `memory.limit_in_bytes`; "unlimited" is a huge value (about
    /// 2⁶³ rounded to pages), so 2⁶⁰ bytes or more count as none (`nil` also for garbage).
    public static func cgroupV1Limit(_ contents: String) -> Int? {
        guard let bytes = Int(contents.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0, bytes < 1 << 60 else { return nil }
        return bytes
    }

    /// `root` and its sub-folders along `path` (`/a/b`: root, root/a, root/a/b); only `root`
    /// without a path, or for a path with `..` (the process's cgroup lies outside the namespace's
    /// root, and a folder of the same name under it would be another cgroup).
    static func directories(under root: String, along path: String?) -> [String] {
        let components = (path ?? "").split(separator: "/").filter { $0 != "." }
        guard !components.contains("..") else { return [root] }
        return (0...components.count).map { ([root] + components.prefix($0).map(String.init)).joined(separator: "/") }
    }

    /// How many processes of this run share its machine, and the variable that said so.
    public struct LocalProcesses: Sendable, Equatable {
        public var count: Int
        /// e.g. `OMPI_COMM_WORLD_LOCAL_SIZE=2`.
        public var source: String

        public init(count: Int, source: String) {
            self.count = count
            self.source = source
        }
    }

    /// The processes of a launcher's run on this machine, read from `environment` (`nil`: none
    /// says): Open MPI's `OMPI_COMM_WORLD_LOCAL_SIZE`, MPICH's `MPI_LOCALNRANKS`, then Slurm's
    /// `SLURM_STEP_TASKS_PER_NODE` (the `srun` step's), `SLURM_NTASKS_PER_NODE` or
    /// `SLURM_TASKS_PER_NODE` (the allocation's). The lists name nodes (`2(x3),1`: three nodes
    /// of 2 tasks, one of 1), and a process does not know which is its own, so the largest
    /// count counts (a limit shared by it is never too large).
    public static func localProcesses(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> LocalProcesses? {
        for variable in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_TASKS_PER_NODE", "SLURM_NTASKS_PER_NODE", "SLURM_TASKS_PER_NODE"] {
            guard let value = environment[variable] else { continue }
            let text = value.trimmingCharacters(in: .whitespaces)
            let isList = variable == "SLURM_STEP_TASKS_PER_NODE" || variable == "SLURM_TASKS_PER_NODE"
            guard let count = isList ? slurmTasksPerNode(text) : Int(text).flatMap({ $0 >= 1 ? $0 : nil }) else { continue }
            return LocalProcesses(count: count, source: "\(variable)=\(value)")
        }
        return nil
    }

    /// The largest count of a Slurm tasks-per-node list (`2(x3),1` → 2; a plain `4` → 4);
    /// `nil` unless every item is a positive count, optionally followed by `(xN)`, N ≥ 1.
    public static func slurmTasksPerNode(_ text: String) -> Int? {
        var largest: Int?
        for item in text.trimmingCharacters(in: .whitespaces).split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "(", maxSplits: 1, omittingEmptySubsequences: false)
            guard let count = Int(parts[0]), count >= 1 else { return nil }
            if parts.count == 2 {
                guard parts[1].hasPrefix("x"), parts[1].hasSuffix(")"), let repeats = Int(parts[1].dropFirst().dropLast()), repeats >= 1 else { return nil }
            }
            largest = max(largest ?? count, count)
        }
        return largest
    }

    /// The text of a small file (a sysfs or procfs one, whose size `stat` does not tell), at
    /// most 64 KiB; `nil` when it cannot be read.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            done += n
        }
        return String(decoding: bytes[..<done], as: UTF8.self)
    }
}
