import Foundation
import Tensor
import Layers

/// Which zoo backbone, at which embedding and input size: everything needed to rebuild a
/// network before loading its weights. Stored in the metadata of the weights files CrossRes
/// writes, so those files describe themselves.
public struct BackboneConfiguration: Codable, Equatable, Sendable, CustomStringConvertible {
    /// A ``ModelFactory`` name (`smallfacenet`, `mobilefacenet`, `iresnet50`, …).
    public var name: String
    public var embeddingSize: Int
    /// Input height = width in pixels.
    public var inputSize: Int

    /// A configuration as given; ``ModelFactory/configuration(name:embeddingSize:inputSize:)``
    /// checks one, and ``ModelFactory/make(_:using:)`` checks before building.
    public init(name: String, embeddingSize: Int, inputSize: Int) {
        self.name = name
        self.embeddingSize = embeddingSize
        self.inputSize = inputSize
    }

    public var description: String { "\(name) (\(embeddingSize)-d, \(inputSize)×\(inputSize) input)" }

    /// The metadata keys of a weights file.
    public static let metadataKeys = (name: "crossres.model", embeddingSize: "crossres.embedding-size", inputSize: "crossres.input-size")

    /// The configuration as safetensors metadata.
    public var metadata: [String: String] {
        [Self.metadataKeys.name: name, Self.metadataKeys.embeddingSize: String(embeddingSize), Self.metadataKeys.inputSize: String(inputSize)]
    }
}

/// Builds zoo backbones by name, with defaults per model, and saves and loads their weights
/// (PyTorch state-dict names, safetensors).
///
/// | name | network | default embedding | input |
/// |---|---|---|---|
/// | `smallfacenet` | ``SmallFaceNet`` | 128 | 32 (multiple of 8) |
/// | `tinyresnet32` | ``TinyResNet32`` | 128 | 32 only |
/// | `mobilefacenet` | ``MobileFaceNet`` (insightface `get_mbf`) | 512 | 112 (multiple of 16; of 8 below 64) |
/// | `mobilefacenet-32` | ``MobileFaceNet`` 32×32 variant (stride-1 stem) | 512 | 32 only |
/// | `iresnet18/34/50/100` | ``IResNet`` | 512 | 112 (multiple of 16) |
public enum ModelFactory {
    /// One buildable model.
    public struct Model: Sendable {
        public let name: String
        public let summary: String
        public let defaultEmbeddingSize: Int
        public let defaultInputSize: Int
        /// The only input size the network takes, if it has one.
        public let fixedInputSize: Int?
        /// A feature map of middle depth, the default for feature-map transfer (NST).
        public let defaultFeatureMap: String
        let inputSizeRule: @Sendable (Int) -> String?
        let build: @Sendable (BackboneConfiguration, inout RandomGenerator) -> any FeatureExtractor
    }

    private static func multiple(of k: Int) -> @Sendable (Int) -> String? {
        { $0 >= k && $0 % k == 0 ? nil : "must be a positive multiple of \(k)" }
    }

    private static func iresnet(_ depth: Int, _ layers: [Int]) -> Model {
        Model(name: "iresnet\(depth)", summary: "IResNet-\(depth) (insightface arcface_torch)", defaultEmbeddingSize: 512, defaultInputSize: 112,
              fixedInputSize: nil, defaultFeatureMap: "stage3", inputSizeRule: multiple(of: 16)) { c, g in
            IResNet(IResNet.Configuration(layers: layers, embeddingSize: c.embeddingSize, inputSize: c.inputSize), using: &g)
        }
    }

    /// Every model, in help order.
    public static let models: [Model] = [
        Model(name: "smallfacenet", summary: "SmallFaceNet, 0.12 M parameters: tests, demos, small data", defaultEmbeddingSize: 128,
              defaultInputSize: 32, fixedInputSize: nil, defaultFeatureMap: "stage2", inputSizeRule: multiple(of: 8)) { c, g in
            SmallFaceNet(embeddingSize: c.embeddingSize, inputSize: c.inputSize, using: &g)
        },
        Model(name: "tinyresnet32", summary: "four-stage ResNet for 32×32 faces", defaultEmbeddingSize: 128, defaultInputSize: 32,
              fixedInputSize: 32, defaultFeatureMap: "stage3", inputSizeRule: { _ in nil }) { c, g in
            TinyResNet32(embeddingSize: c.embeddingSize, using: &g)
        },
        Model(name: "mobilefacenet", summary: "MobileFaceNet (insightface get_mbf), 2 M parameters", defaultEmbeddingSize: 512,
              defaultInputSize: 112, fixedInputSize: nil, defaultFeatureMap: "stage3",
              inputSizeRule: { $0 >= 64 ? (multiple(of: 16)($0)) : (multiple(of: 8)($0)) }) { c, g in
            MobileFaceNet(MobileFaceNet.Configuration(embeddingSize: c.embeddingSize, inputSize: c.inputSize), using: &g)
        },
        Model(name: "mobilefacenet-32", summary: "MobileFaceNet for 32×32 input (stride-1 stem, 4×4 GDC)", defaultEmbeddingSize: 512,
              defaultInputSize: 32, fixedInputSize: 32, defaultFeatureMap: "stage3", inputSizeRule: { _ in nil }) { c, g in
            MobileFaceNet(MobileFaceNet.Configuration(embeddingSize: c.embeddingSize, inputSize: 32), using: &g)
        },
        iresnet(18, [2, 2, 2, 2]),
        iresnet(34, [3, 4, 6, 3]),
        iresnet(50, [3, 4, 14, 3]),
        iresnet(100, [3, 13, 30, 3]),
    ]

    /// The model names, comma-separated.
    public static var names: String { models.map(\.name).joined(separator: ", ") }

    /// The model called `name`, or an error listing the known names.
    public static func model(named name: String) throws -> Model {
        guard let model = models.first(where: { $0.name == name.lowercased() }) else {
            throw TrainingError.invalidConfiguration("unknown model '\(name)'; known models: \(names)")
        }
        return model
    }

    /// Largest embedding size and input side a configuration may ask for: far beyond any face
    /// network (512 and 112), and small enough that a typo or a corrupt file's metadata is an
    /// error instead of an allocation that fails or overflows.
    public static let maximumEmbeddingSize = 1 << 16, maximumInputSize = 4096

    /// A checked configuration: `nil` sizes take the model's defaults; a size the network
    /// cannot take is an error naming the rule.
    public static func configuration(name: String, embeddingSize: Int? = nil, inputSize: Int? = nil) throws -> BackboneConfiguration {
        let model = try model(named: name)
        let embedding = embeddingSize ?? model.defaultEmbeddingSize
        let input = inputSize ?? model.defaultInputSize
        guard (1...maximumEmbeddingSize).contains(embedding) else {
            throw TrainingError.invalidConfiguration("embedding size must be in 1...\(maximumEmbeddingSize), got \(embedding)")
        }
        guard (1...maximumInputSize).contains(input) else {
            throw TrainingError.invalidConfiguration("input size must be in 1...\(maximumInputSize), got \(input)")
        }
        if let fixed = model.fixedInputSize, input != fixed {
            throw TrainingError.invalidConfiguration("\(model.name) takes \(fixed)×\(fixed) input only, got input size \(input)")
        }
        if let problem = model.inputSizeRule(input) {
            throw TrainingError.invalidConfiguration("\(model.name): input size \(problem), got \(input)")
        }
        return BackboneConfiguration(name: model.name, embeddingSize: embedding, inputSize: input)
    }

    /// A freshly initialised network (weights drawn from `generator`).
    public static func make(_ configuration: BackboneConfiguration, using generator: inout RandomGenerator) throws -> any FeatureExtractor {
        let checked = try self.configuration(name: configuration.name, embeddingSize: configuration.embeddingSize, inputSize: configuration.inputSize)
        return try model(named: checked.name).build(checked, &generator)
    }

    /// The weights file of `path`: the path itself, or `backbone.safetensors` inside a run folder.
    public static func weightsFile(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return path }
        return (path as NSString).appendingPathComponent(backboneFileName)
    }

    /// Name of the final backbone weights in a training run folder.
    public static let backboneFileName = "backbone.safetensors"

    /// Writes `model`'s state dict (PyTorch names) with `configuration` in the metadata, atomically.
    public static func save(_ model: any FeatureExtractor, configuration: BackboneConfiguration, to path: String,
                            metadata: [String: String] = [:]) throws {
        try model.saveStateDict(to: URL(fileURLWithPath: path), metadata: metadata.merging(configuration.metadata) { $1 })
    }

    /// Builds the network a weights file holds and loads it strictly.
    ///
    /// `path` is a `.safetensors` file or a run folder (its `backbone.safetensors`). The model
    /// name and sizes come from the file's metadata unless given; a file without metadata
    /// (e.g. exported from PyTorch) needs `name` (sizes default to the model's). Missing,
    /// unexpected and mis-shaped tensors are all named in the error.
    public static func load(weights path: String, name: String? = nil, embeddingSize: Int? = nil,
                            inputSize: Int? = nil) throws -> (model: any FeatureExtractor, configuration: BackboneConfiguration) {
        let file = weightsFile(path)
        guard FileManager.default.fileExists(atPath: file) else {
            guard file != path else { throw TrainingError.invalidConfiguration("weights \(file): no such file") }
            throw TrainingError.invalidConfiguration("weights \(path): the folder has no \(backboneFileName), so it is not a finished training run (an evaluation report, or a run still to resume and finish); pass a train-teacher or distill run folder, or a weights file")
        }
        let weights: Safetensors
        do { weights = try Safetensors(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw TrainingError.invalidConfiguration("weights \(file): \(error)")
        }
        if let step = weights.metadata[Checkpoint.stepKey] {
            throw TrainingError.invalidConfiguration("weights \(file) are a training checkpoint (step \(step): the run's whole state, not a network's weights); pass the run folder or its \(backboneFileName)")
        }
        if let name = weights.tensors.keys.sorted().first(where: { !isAllFinite(weights.tensors[$0]!) }) {
            throw TrainingError.invalidConfiguration("weights \(file): tensor '\(name)' holds NaN or infinite values (a diverged run?)")
        }
        let keys = BackboneConfiguration.metadataKeys
        guard let modelName = name ?? weights.metadata[keys.name] else {
            throw TrainingError.invalidConfiguration("weights \(file) do not say which model they hold (no '\(keys.name)' metadata); name it (known models: \(names))")
        }
        func size(_ given: Int?, _ key: String) throws -> Int? {
            if let given { return given }
            guard let text = weights.metadata[key] else { return nil }
            guard let value = Int(text) else { throw TrainingError.invalidConfiguration("weights \(file): metadata '\(key)' is '\(text)', not an integer") }
            return value
        }
        let embedding = try size(embeddingSize, keys.embeddingSize), input = try size(inputSize, keys.inputSize)
        let configuration: BackboneConfiguration
        do {
            configuration = try self.configuration(name: modelName, embeddingSize: embedding, inputSize: input)
        } catch TrainingError.invalidConfiguration(let message) {
            throw TrainingError.invalidConfiguration("weights \(file): \(message)")
        }
        var generator = RandomGenerator(seed: 0)
        let model = try make(configuration, using: &generator)
        do {
            try model.load(stateDict: weights.tensors, source: file)
        } catch {
            throw TrainingError.invalidConfiguration("weights \(file) do not fit \(configuration): \(error)")
        }
        return (model, configuration)
    }
}
