import Testing
import Foundation
@testable import Tensor

/// Choosing OpenBLAS's core when its own detection fell back to the SSE3 kernels.
@Suite struct BLASCoreTests {
    @Test func preferredCoreFollowsTheWidestInstructionSet() {
        let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        #expect(BLASCore.preferredCore(flags: avx512) == "SkylakeX")
        // AVX-512 without the byte/word and vector-length extensions (Xeon Phi) is not SkylakeX.
        #expect(BLASCore.preferredCore(flags: ["avx", "avx2", "fma", "avx512f", "avx512cd"]) == "Haswell")
        #expect(BLASCore.preferredCore(flags: ["avx", "avx2"]) == "SandyBridge")   // AVX2 without FMA
        #expect(BLASCore.preferredCore(flags: ["sse2", "sse3", "avx"]) == "SandyBridge")
        #expect(BLASCore.preferredCore(flags: ["sse2", "sse3", "ssse3"]) == nil)
        #expect(BLASCore.preferredCore(flags: []) == nil)
    }

    /// On this machine: after a GEMM, OpenBLAS runs on the fallback core only where the CPU
    /// offers nothing better or the user named a core; a re-selection names both cores, and
    /// the product is still right.
    @Test func aGEMMRunsOnTheBestCoreTheCPUAllows() {
        let a = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1])
        #expect(a.matmul(b).scalars == a.scalars)
        let core = BLASCore.name.lowercased()
        let userChoice = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        let flags = BLASCore.cpuFlags()
        #if arch(x86_64) && os(Linux)
        #expect(flags.contains("sse2"), "no sse2 among the flags read from /proc/cpuinfo: \(flags.sorted())")
        #endif
        if userChoice == nil, BLASCore.preferredCore(flags: flags) != nil {
            #expect(core != "prescott", "OpenBLAS still runs its SSE3 kernels on a CPU with \(BLASCore.preferredCore(flags: flags)!)")
        }
        if let change = BLASCore.reselection {
            #expect(userChoice == nil)
            #expect(change.from.lowercased() == "prescott" && change.to == BLASCore.name)
        }
    }
}
