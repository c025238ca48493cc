/// Every benchmark case, in run order. Later workloads (convolution W2, MobileFaceNet train and
/// transfer steps W3–W5, per-layer diagnostics) are appended here from their own `Bench…` files.
enum BenchSuite {
    static func all() -> [BenchCase] {
        BenchCoreWorkloads.matmul(id: "w1.matmul.1024", workload: "W1 matmul 1024×1024·1024×1024", m: 1024, k: 1024, n: 1024, iterations: 30)
            + BenchCoreWorkloads.matmul(id: "matmul.im2col.64", workload: "im2col GEMM 64×576·576×3136", m: 64, k: 576, n: 3136, iterations: 100)
            + BenchCoreWorkloads.matmul(id: "matmul.im2col.128", workload: "im2col GEMM 128×1152·1152×784", m: 128, k: 1152, n: 784, iterations: 100)
            + BenchCoreWorkloads.memoryBound(count: 4 << 20)
            + BenchCoreWorkloads.regions()
            + BenchConvolution.cases()
            + BenchMobileFaceNet.cases()
            + BenchTransfer.w4()
            + BenchSmallNetworks.cases()
            + BenchLoader.cases()
            + BenchMemory.cases()
            + BenchLayers.cases()
    }
}
