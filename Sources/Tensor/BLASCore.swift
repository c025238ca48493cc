import CBLAS
import Foundation

/// The OpenBLAS kernel family ("core") that GEMMs and LAPACK run on.
///
/// OpenBLAS builds for many CPUs (Debian's among them) pick their kernels when the library is
/// loaded, from the CPU's model number. A release older than the CPU does not know the model
/// and falls back to its slowest x86-64 kernels, "Prescott" (SSE3): on an AVX-512 Xeon that
/// OpenBLAS 0.3.21 did not recognise, a 1024³ `sgemm` ran 8.5× slower than on its "SkylakeX"
/// kernels (34 against 285 GFLOP/s, measured). When that fallback is in force and the
/// `OPENBLAS_CORETYPE` environment variable is unset (a core the user names always wins),
/// CrossRes asks OpenBLAS to choose again before its first GEMM or LAPACK call, naming the best
/// family the CPU's instruction sets allow (``preferredCore(flags:)``).
///
/// OpenBLAS re-chooses through `gotoblas_dynamic_quit`/`gotoblas_dynamic_init`, which its
/// multi-architecture builds export; a build without them keeps its core. The switch happens
/// once, before CrossRes's first BLAS call; BLAS calls that other code makes on other threads at
/// that moment are not covered.
public enum BLASCore {
    /// The core OpenBLAS runs on (`openblas_get_corename()`), after any re-selection.
    public static var name: String {
        _ = selection
        return String(cString: openblas_get_corename())
    }

    /// The fallback core of OpenBLAS's detection on x86-64.
    static let fallback = "prescott"

    /// What CrossRes changed: `nil` if it kept OpenBLAS's own choice, else the core OpenBLAS had
    /// chosen and the one it runs on now.
    public static var reselection: (from: String, to: String)? { selection }

    private static let selection: (from: String, to: String)? = {
        let detected = String(cString: openblas_get_corename())
        guard getenv("OPENBLAS_CORETYPE") == nil, detected.lowercased() == fallback,
              let preferred = preferredCore(flags: cpuFlags()),
              let quit = function(named: "gotoblas_dynamic_quit"), let initialise = function(named: "gotoblas_dynamic_init")
        else { return nil }
        // gotoblas_dynamic_init reads the core from OPENBLAS_CORETYPE; the variable is unset
        // again at once, so the process environment stays as the user left it.
        setenv("OPENBLAS_CORETYPE", preferred, 1)
        quit()
        initialise()
        unsetenv("OPENBLAS_CORETYPE")
        let now = String(cString: openblas_get_corename())
        return now == detected ? nil : (detected, now)
    }()

    /// The best OpenBLAS x86-64 core family for a CPU with these `/proc/cpuinfo` flags:
    /// "SkylakeX" for AVX-512 (F, CD, BW, DQ, VL), "Haswell" for AVX2 with FMA, "SandyBridge"
    /// for AVX, `nil` below that (the fallback is then the right core).
    public static func preferredCore(flags: Set<String>) -> String? {
        if flags.isSuperset(of: ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        if flags.contains("avx") { return "SandyBridge" }
        return nil
    }

    /// The instruction-set flags of the first processor in `/proc/cpuinfo` (empty elsewhere).
    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    private static func function(named symbol: String) -> (@convention(c) () -> Void)? {
        guard let address = dlsym(nil, symbol) else { return nil }
        return unsafeBitCast(address, to: (@convention(c) () -> Void).self)
    }
}
