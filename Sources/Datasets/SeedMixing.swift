/// A 64-bit seed derived from several integers (a seed and indices such as epoch and sample),
/// by chaining the SplitMix64 finaliser (Steele et al., OOPSLA 2014). Different inputs give
/// unrelated streams, so per-sample generators need no shared state.
func mixSeed(_ values: UInt64...) -> UInt64 {
    var h: UInt64 = 0x6A09_E667_F3BC_C909
    for v in values {
        h = (h ^ v) &+ 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
    }
    return h
}
