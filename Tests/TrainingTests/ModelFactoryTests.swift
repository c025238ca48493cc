import Foundation
import Testing
import CrossRes

@Suite struct ModelFactoryTests {
    @Test func namesResolveWithTheirDefaults() throws {
        let expected: [(String, Int, Int)] = [("smallfacenet", 128, 32), ("tinyresnet32", 128, 32), ("mobilefacenet", 512, 112),
                                              ("mobilefacenet-32", 512, 32), ("iresnet18", 512, 112), ("iresnet34", 512, 112),
                                              ("iresnet50", 512, 112), ("iresnet100", 512, 112)]
        for (name, embedding, input) in expected {
            let c = try ModelFactory.configuration(name: name)
            #expect(c == BackboneConfiguration(name: name, embeddingSize: embedding, inputSize: input))
        }
        #expect(try ModelFactory.configuration(name: "SmallFaceNet", embeddingSize: 16, inputSize: 24).name == "smallfacenet")
    }

    @Test func impossibleSizesAndUnknownNamesAreErrors() {
        func message(_ name: String, _ embedding: Int? = nil, _ input: Int? = nil) -> String {
            do { _ = try ModelFactory.configuration(name: name, embeddingSize: embedding, inputSize: input) } catch { return "\(error)" }
            return ""
        }
        #expect(message("resnet9").contains("known models: smallfacenet"))
        #expect(message("tinyresnet32", nil, 64).contains("32×32 input only"))
        #expect(message("iresnet50", nil, 40).contains("multiple of 16"))
        #expect(message("smallfacenet", nil, 12).contains("multiple of 8"))
        #expect(message("mobilefacenet", nil, 72).contains("multiple of 16"))
        #expect(message("mobilefacenet", nil, 40) == "", "below 64 pixels the stem has stride 1 and multiples of 8 work")
        #expect(message("smallfacenet", 0).contains("embedding size must be in 1...65536, got 0"))
        // Sizes no network could hold (a typo, a corrupt file's metadata) are errors, not failed allocations.
        #expect(message("smallfacenet", Int.max).contains("embedding size must be in 1...65536"))
        #expect(message("smallfacenet", nil, 1 << 20).contains("input size must be in 1...4096"))
    }

    @Test func corruptSizeMetadataNamesTheFile() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let file = scratch + "/backbone.safetensors"
        let keys = BackboneConfiguration.metadataKeys
        try Safetensors(tensors: [:], metadata: [keys.name: "smallfacenet", keys.embeddingSize: "9223372036854775807"])
            .write(to: URL(fileURLWithPath: file))
        let error = try #require(throws: TrainingError.self) { _ = try ModelFactory.load(weights: file) }
        #expect("\(error)".contains("weights \(file): embedding size must be in 1...65536"), "\(error)")
    }

    @Test func builtModelsEmbedAtTheirSize() throws {
        var g = RandomGenerator(seed: 1)
        for name in ["smallfacenet", "tinyresnet32"] {
            let c = try ModelFactory.configuration(name: name, embeddingSize: 8)
            let model = try ModelFactory.make(c, using: &g)
            let x = Tensor.randomNormal([2, 3, c.inputSize, c.inputSize], using: &g)
            let features = withoutGradients { model.eval().features(x) }
            #expect(features.embedding.shape == [2, 8])
            #expect(features.maps[ModelFactory.models.first { $0.name == name }!.defaultFeatureMap] != nil)
        }
    }

    @Test func weightsDescribeThemselvesAndLoadStrictly() throws {
        var g = RandomGenerator(seed: 2)
        let c = try ModelFactory.configuration(name: "smallfacenet", embeddingSize: 12, inputSize: 16)
        let model = try ModelFactory.make(c, using: &g)
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/" + ModelFactory.backboneFileName
        try ModelFactory.save(model, configuration: c, to: path)

        // From the file or its folder, without naming the model.
        for source in [path, folder] {
            let (loaded, configuration) = try ModelFactory.load(weights: source)
            #expect(configuration == c)
            #expect(allValues(loaded) == allValues(model))
        }
        // Naming a different architecture fails with the tensors at fault.
        do {
            _ = try ModelFactory.load(weights: path, embeddingSize: 16)
            Issue.record("loading 12-d weights into a 16-d model must fail")
        } catch {
            #expect("\(error)".contains("do not fit smallfacenet (16-d"))
            #expect("\(error)".contains("fc.weight"))
        }
        // A file without metadata needs the model's name.
        let bare = folder + "/bare.safetensors"
        try model.saveStateDict(to: URL(fileURLWithPath: bare))
        do {
            _ = try ModelFactory.load(weights: bare)
            Issue.record("weights without metadata need a model name")
        } catch {
            #expect("\(error)".contains("do not say which model"))
        }
        #expect(try ModelFactory.load(weights: bare, name: "smallfacenet", embeddingSize: 12, inputSize: 16).configuration == c)
        do {
            _ = try ModelFactory.load(weights: folder + "/missing.safetensors")
            Issue.record("a missing file must fail")
        } catch {
            #expect("\(error)".contains("no such file"))
        }
        // Files and folders of the wrong kind, and weights of a diverged run.
        let report = folder + "/report"
        try FileManager.default.createDirectory(atPath: report, withIntermediateDirectories: false)
        let checkpoint = folder + "/checkpoint.safetensors"
        try Safetensors(tensors: ["student.fc.weight": Tensor.zeros([2, 2])], metadata: ["crossres.step": "40"]).write(to: URL(fileURLWithPath: checkpoint))
        var diverged = model.stateDict()
        let poisoned = diverged.keys.sorted()[1]
        diverged[poisoned] = diverged[poisoned]! * Float.nan
        let nan = folder + "/nan.safetensors"
        try Safetensors(tensors: diverged, metadata: c.metadata).write(to: URL(fileURLWithPath: nan))
        for (source, message) in [(report, "weights \(report): the folder has no backbone.safetensors, so it is not a finished training run"),
                                  (checkpoint, "weights \(checkpoint) are a training checkpoint (step 40"),
                                  (nan, "weights \(nan): tensor '\(poisoned)' holds NaN or infinite values")] {
            let error = try #require(throws: TrainingError.self) { _ = try ModelFactory.load(weights: source) }
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
