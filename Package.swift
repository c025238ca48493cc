// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "CrossRes",
    products: [
        .library(name: "CrossRes", targets: ["CrossRes"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "Optim", targets: ["Optim"]),
        .library(name: "Losses", targets: ["Losses"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Evaluation", targets: ["Evaluation"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        .executable(name: "crossres", targets: ["crossres"]),
        .executable(name: "CustomTransferLoss", targets: ["CustomTransferLoss"]),
    ],
    targets: [
        // MARK: - System libraries (Debian packages)
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // MARK: - Public API
        .target(name: "Tensor", dependencies: ["CBLAS", "CLAPACKE"]),
        .target(name: "Layers", dependencies: ["Tensor"]),
        .target(name: "Optim", dependencies: ["Tensor", "Layers"]),
        .target(name: "Losses", dependencies: ["Tensor", "Layers"]),
        .target(name: "Datasets", dependencies: ["Tensor", "CPNG", "CTurboJPEG"]),
        .target(name: "Evaluation", dependencies: ["Tensor", "Layers", "Datasets"]),
        .target(name: "Training", dependencies: ["Tensor", "Layers", "Optim", "Losses", "Datasets", "Evaluation"]),
        .target(name: "Distributed", dependencies: ["Tensor", "Layers", "Optim", "Datasets", "Training", "CMPI"]),
        .target(name: "CrossRes", dependencies: ["Tensor", "Layers", "Optim", "Losses", "Datasets", "Evaluation", "Training"]),

        // MARK: - Executables
        .executableTarget(name: "crossres", dependencies: ["CrossRes", "CBLAS", "Distributed"], path: "Examples/crossres"),
        .executableTarget(name: "DistributedCheck", dependencies: ["Tensor", "Layers", "Optim", "Losses", "Training", "Distributed"], path: "Examples/DistributedCheck"),
        .executableTarget(name: "CustomTransferLoss", dependencies: ["Tensor", "Layers", "Losses"], path: "Examples/CustomTransferLoss"),

        // MARK: - Unit test bundles (TestSupport: Python fixtures, processes, shared data)
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Tensor", "Layers", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Tensor", "Layers", "Optim"]),
        .testTarget(name: "LossesTests", dependencies: ["Tensor", "Layers", "Losses"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Tensor", "Datasets", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Tensor", "Layers", "Datasets", "Evaluation", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["CrossRes", "Training", "TestSupport"]),
        .testTarget(name: "DistributedTests", dependencies: ["Tensor", "Layers", "Optim", "Datasets", "Training", "Distributed", "TestSupport"]),
    ]
)
