import CBLAS
import CrossRes
import Foundation

/// W1 of the performance plan and the Foundation targets: GEMM through `Tensor.matmul`
/// against a direct `cblas_sgemm`, and memory-bound maps and reductions against `memcpy`.
enum BenchCoreWorkloads {
    /// `Tensor.matmul` vs `cblas_sgemm` on `[m, k] · [k, n]` (target ≥ 0.95×).
    static func matmul(id: String, workload: String, m: Int, k: Int, n: Int, iterations: Int) -> [BenchCase] {
        let flops = BenchWork.flops(2 * Double(m) * Double(k) * Double(n))
        let direct = "\(id).cblas"
        func operands() -> (Tensor, Tensor) {
            var rng = RandomGenerator(seed: 1)
            return (Tensor.randomUniform([m, k], low: -1, high: 1, using: &rng), Tensor.randomUniform([k, n], low: -1, high: 1, using: &rng))
        }
        return [
            BenchCase(id: direct, workload: workload, variant: "cblas_sgemm (direct)", work: flops, iterations: iterations) {
                let (a, b) = operands()
                let c = Tensor.zeros([m, n])
                return {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                a.storage.base, Int32(k), b.storage.base, Int32(n), 0, c.storage.base, Int32(n))
                }
            },
            BenchCase(id: "\(id).tensor", workload: workload, variant: "Tensor.matmul", work: flops, baseline: direct,
                      target: 0.95, iterations: iterations) {
                let (a, b) = operands()
                return { withExtendedLifetime(a.matmul(b)) {} }
            },
        ]
    }

    /// Elementwise maps and a full reduction over `count` floats, in bytes moved per second,
    /// against `memcpy` of one tensor (target ≥ 0.5×), each iteration from cold caches.
    static func memoryBound(count: Int) -> [BenchCase] {
        let workload = "elementwise \(count / (1 << 20))M floats"
        let bytes = Double(count * 4)
        let copy = "elementwise.memcpy"
        func inputs() -> (Tensor, Tensor) {
            var rng = RandomGenerator(seed: 2)
            return (Tensor.randomUniform([count], low: -1, high: 1, using: &rng), Tensor.randomUniform([count], low: -1, high: 1, using: &rng))
        }
        func op(_ name: String, _ variant: String, traffic: Double, _ body: @escaping (Tensor, Tensor) -> Tensor) -> BenchCase {
            BenchCase(id: "elementwise.\(name)", workload: workload, variant: variant, work: .bytes(traffic * bytes),
                      baseline: copy, target: 0.5, iterations: 100, coldCaches: true) {
                let (a, b) = inputs()
                return { withExtendedLifetime(body(a, b)) {} }
            }
        }
        return [
            BenchCase(id: copy, workload: workload, variant: "memcpy (read + write)", work: .bytes(2 * bytes), iterations: 100, coldCaches: true) {
                let (a, _) = inputs()
                let destination = Tensor.zeros([count])
                return { memcpy(destination.storage.base, a.storage.base, count * 4) }
            },
            op("add", "a + b", traffic: 3) { $0 + $1 },
            op("mul", "a * b", traffic: 3) { $0 * $1 },
            op("relu", "relu(a)", traffic: 2) { a, _ in a.relu() },
            op("sum", "sum(a)", traffic: 1) { a, _ in a.sum() },
        ]
    }

    /// The cost of a `parallelFor` region: 1000 regions of two pieces of fixed work (each sums
    /// an L1-resident row of floats several times), against the same pieces run serially. With
    /// two threads the ideal ratio is 2×; what falls short is the time workers take to join.
    static func regions(rowFloats: Int = 2048, passes: Int = 32) -> [BenchCase] {
        let workload = "parallelFor: 1000 regions of 2 pieces (\(passes) sums of \(rowFloats) floats each)"
        let serial = "parallel.regions.serial"
        func variant(_ id: String, _ name: String, baseline: String?, parallel: Bool) -> BenchCase {
            BenchCase(id: id, workload: workload, variant: name, work: .items(1000, unit: "region"), baseline: baseline,
                      iterations: 30) {
                let rows = Tensor.ones([2, rowFloats])
                let sums = Tensor.zeros([2])
                return {
                    let data = UnsafePointer(rows.storage.base), out = sums.storage.base
                    let piece: (Range<Int>) -> Void = { range in
                        for row in range {
                            let p = data + row * rowFloats
                            var acc = SIMD8<Float>()
                            for _ in 0..<passes {
                                var i = 0
                                while i < rowFloats {
                                    acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
                                    i &+= 8
                                }
                            }
                            out[row] = acc.sum()
                        }
                    }
                    for _ in 0..<1000 {
                        if parallel { parallelFor(2, piece) } else { piece(0..<2) }
                    }
                }
            }
        }
        return [variant(serial, "serial (one thread)", baseline: nil, parallel: false),
                variant("parallel.regions.pool", "parallelFor", baseline: serial, parallel: true)]
    }
}
