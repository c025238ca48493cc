import Foundation
import Testing
import CrossRes

/// The teacher cache's memory limit: sizes as written (``ByteSize``), the `teacher-cache-limit`
/// setting, the memory a cgroup leaves a process and the processes sharing a machine
/// (``MachineResources``), read from inputs given here rather than this machine's.
struct TeacherCacheLimitTests {
    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }

    @Test func sizesAreReadWithTheirUnits() throws {
        let cases: [(String, Int)] = [("1000000", 1_000_000), ("6GiB", 6 << 30), ("512MiB", 512 << 20), ("6 gib", 6 << 30),
                                      ("1.5GB", 1_500_000_000), ("0.5KiB", 512), ("2kB", 2000), ("7B", 7), (" 3TiB ", 3 << 40),
                                      ("9223372036854775807", Int.max)]
        for (text, bytes) in cases { #expect(try ByteSize.bytes(parsing: text) == bytes, "\(text)") }
        let errors: [(String, String)] = [("0", "must be positive"), ("-1GiB", "must be positive"), ("0.1B", "less than one byte"),
                                          ("9223372036854775808", "the largest size"), ("8388608TiB", "the largest size"),
                                          ("6G", "6G is ambiguous"), ("six", "unknown unit 'six'"), ("", "not a number"),
                                          ("1.2.3GB", "not a number"), ("GiB", "not a number")]
        for (text, expected) in errors {
            let got = message { _ = try ByteSize.bytes(parsing: text) }
            #expect(got.contains(expected), "'\(text)': \(got)")
        }
    }

    /// `--teacher-cache-limit 6GiB` and `"teacher-cache-limit": 6442450944` are one setting,
    /// stored as bytes; bad values name the setting and where they came from.
    @Test func theSettingIsParsedValidatedAndStoredAsBytes() throws {
        let base = ConfigurationLayer(source: "file", values: ["data": "synthetic", "teacher": "t", "cache-teacher": true, "flip": false])
        for value in ["6GiB", 6442450944, "6442450944"] as [Any] {
            let c = try DistillationConfiguration.layered([base, ConfigurationLayer(source: "flags", values: ["teacher-cache-limit": value])])
            #expect(c.teacherCacheLimit == 6 << 30, "\(value)")
            #expect(c.jsonObject["teacher-cache-limit"] as? Int == 6 << 30)
        }
        #expect(try DistillationConfiguration.layered([base]).teacherCacheLimit == nil)
        for (value, expected) in [("0", "must be positive"), ("-5", "must be positive"), ("99999999TiB", "the largest size"), ("lots", "unknown unit")]
            + [(true, "needs a size in bytes"), (-1, "must be positive")] as [(Any, String)] {
            let text = message {
                _ = try DistillationConfiguration.layered([base, ConfigurationLayer(source: "flags", values: ["teacher-cache-limit": value])])
            }
            #expect(text.contains("flags: 'teacher-cache-limit' needs a size in bytes") && text.contains(expected), "\(value): \(text)")
        }
        let off = message {
            _ = try DistillationConfiguration.layered([ConfigurationLayer(source: "flags", values: ["data": "synthetic", "teacher": "t", "teacher-cache-limit": "1GiB"])])
        }
        #expect(off.contains("'teacher-cache-limit' limits the memory of cache-teacher, which is off"), "\(off)")
        var decoded = try DistillationConfiguration.layered([base])
        decoded.teacherCacheLimit = 0  // (set in code, past the option's parsing)
        #expect(message { try decoded.validate() }.contains("'teacher-cache-limit' must be a positive size"))
    }

    /// The limit does not change the numbers: a resume (perhaps on another machine) may change it.
    @Test func aResumeMayChangeTheLimit() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        var c = DistillationConfiguration()
        c.training.data = "synthetic"
        c.training.flip = false
        c.teacher = "t"
        c.cacheTeacher = true
        _ = try TrainingRunFolder.create(scratch + "/run", configuration: c, overwrite: false)
        let resumed = try TrainingRunFolder.resumedConfiguration(scratch + "/run", as: DistillationConfiguration.self,
                                                                 layers: [ConfigurationLayer(source: "flags", values: ["teacher-cache-limit": "2GiB"])])
        #expect(resumed.teacherCacheLimit == 2 << 30)
    }

    @Test func cgroupLimitsAreReadDefensively() {
        #expect(MachineResources.cgroupV2Limit("max\n") == nil)
        #expect(MachineResources.cgroupV2Limit("8589934592\n") == 8 << 30)
        for garbage in ["", "lots", "-1", "0", "99999999999999999999"] {
            #expect(MachineResources.cgroupV2Limit(garbage) == nil && MachineResources.cgroupV1Limit(garbage) == nil, "\(garbage)")
        }
        #expect(MachineResources.cgroupV1Limit("9223372036854771712\n") == nil)  // v1's "unlimited"
        #expect(MachineResources.cgroupV1Limit("4294967296") == 4 << 30)
        #expect(MachineResources.memory(physical: 64 << 30, cgroupLimit: 8 << 30) == (8 << 30, 8 << 30))
        #expect(MachineResources.memory(physical: 64 << 30, cgroupLimit: 128 << 30) == (64 << 30, nil))
        #expect(MachineResources.memory(physical: 64 << 30, cgroupLimit: nil) == (64 << 30, nil))
    }

    /// A container's cgroup at the mount's root, a Slurm job's along the process's path (the
    /// tightest of its ancestors counts); nothing readable is no limit.
    @Test func theTightestCgroupLimitOfTheProcessCounts() {
        func limit(_ files: [String: String]) -> Int? { MachineResources.cgroupMemoryLimit { files[$0] } }
        #expect(limit([:]) == nil)
        #expect(limit(["/sys/fs/cgroup/memory.max": "max\n"]) == nil)
        #expect(limit(["/sys/fs/cgroup/memory.max": "6442450944\n"]) == 6 << 30)
        let slurm = ["/proc/self/cgroup": "0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n",
                     "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_42/memory.max": "17179869184\n",
                     "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_42/step_0/memory.max": "max\n",
                     "/sys/fs/cgroup/system.slice/memory.max": "garbage"]
        #expect(limit(slurm) == 16 << 30)
        let v1 = ["/proc/self/cgroup": "5:cpuacct,memory:/slurm/uid_0/job_7\n4:cpu:/\n0::/\n",
                  "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
                  "/sys/fs/cgroup/memory/slurm/uid_0/job_7/memory.limit_in_bytes": "2147483648\n"]
        #expect(limit(v1) == 2 << 30)
        // A path with `..` lies outside the namespace's root: only the mount's root is read.
        #expect(limit(["/proc/self/cgroup": "0::/../../etc\n", "/sys/fs/cgroup/etc/memory.max": "1024"]) == nil)
        #expect(limit(["/proc/self/cgroup": "0::/../../etc\n", "/sys/fs/cgroup/memory.max": "2048", "/sys/fs/cgroup/etc/memory.max": "1024"]) == 2048)
        #expect(limit(["/proc/self/cgroup": "garbage", "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"]) == 1 << 30)
    }

    @Test func theProcessesOnAMachineComeFromMPIOrSlurm() {
        func count(_ environment: [String: String]) -> Int? { MachineResources.localProcesses(environment)?.count }
        #expect(count([:]) == nil)
        #expect(count(["OMPI_COMM_WORLD_LOCAL_SIZE": "4", "SLURM_NTASKS_PER_NODE": "8"]) == 4)
        #expect(count(["MPI_LOCALNRANKS": "3"]) == 3)
        #expect(count(["SLURM_NTASKS_PER_NODE": "8", "SLURM_TASKS_PER_NODE": "2"]) == 8)
        #expect(count(["SLURM_STEP_TASKS_PER_NODE": "2(x2),1", "SLURM_NTASKS_PER_NODE": "8"]) == 2, "the srun step's count first")
        #expect(count(["SLURM_TASKS_PER_NODE": "2(x3),1"]) == 2)
        #expect(count(["SLURM_TASKS_PER_NODE": "1,4(x2)"]) == 4)
        #expect(MachineResources.localProcesses(["SLURM_TASKS_PER_NODE": "2(x3),1"])?.source == "SLURM_TASKS_PER_NODE=2(x3),1")
        for garbage in ["", "0", "-2", "two", "2(x0)", "2(3)", "2(x3", "2,,1", "2(x3),0"] {
            #expect(count(["SLURM_TASKS_PER_NODE": garbage]) == nil, "\(garbage)")
            #expect(MachineResources.slurmTasksPerNode(garbage) == nil, "\(garbage)")
        }
        // A garbled variable is skipped for the next one.
        #expect(count(["OMPI_COMM_WORLD_LOCAL_SIZE": "x", "SLURM_TASKS_PER_NODE": "3"]) == 3)
    }

    /// A machine's budget (teacher-cache-limit or the default) is split between the run's
    /// processes on it, and the error refusing a larger cache says so and how to raise it.
    @Test func theMachinesBudgetIsSharedByItsProcesses() throws {
        let two = MachineResources.LocalProcesses(count: 2, source: "OMPI_COMM_WORLD_LOCAL_SIZE=2")
        let shared = TeacherFeatureCache.MemoryLimit.shared(machine: 100_000, by: two)
        #expect(shared.bytes == 50_000)
        #expect(shared.origin == "teacher-cache-limit 100.0 kB per machine, shared by the 2 processes on this machine, OMPI_COMM_WORLD_LOCAL_SIZE=2")
        #expect(TeacherFeatureCache.MemoryLimit.shared(machine: 100_000, by: nil).bytes == 100_000)
        #expect(TeacherFeatureCache.MemoryLimit.shared(machine: nil, by: two).bytes == TeacherFeatureCache.defaultMemoryLimit / 2)

        var c = DistillationConfiguration()
        c.training.data = "synthetic"
        c.training.flip = false
        c.teacher = "t"
        c.cacheTeacher = true
        c.teacherCacheLimit = 100_000
        var training = try DistillationTraining(configuration: c)
        #expect(training.teacherCacheLimit.bytes == 100_000)
        training.localProcesses = two
        #expect(training.teacherCacheLimit == shared)
        training.teacherCacheMemoryLimit = 7_000  // the library's per-process override
        #expect(training.teacherCacheLimit.bytes == 7_000)

        let tooLarge = message {
            _ = try TeacherFeatureCache(teacher: TinyEmbedder(inputs: 16, seed: 3), count: 2000, batchSize: 4, memoryLimit: shared) {
                TeacherFeatureCacheTests.images(0..<$0.count)
            }
        }
        for part in ["needs 64.0 kB", "above the limit of 50.0 kB (teacher-cache-limit 100.0 kB per machine, shared by the 2 processes",
                     "the distill setting teacher-cache-limit, per machine"] {
            #expect(tooLarge.contains(part), "\(tooLarge) lacks '\(part)'")
        }
    }
}
