import Foundation
import Testing
import CrossRes

/// Layered settings (defaults, config file, flags), their errors, and the key sets of the
/// three command configurations.
@Suite struct RunConfigurationTests {
    func layer(_ values: [String: Any], _ source: String = "test") -> ConfigurationLayer {
        ConfigurationLayer(source: source, values: values)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return ""
    }

    @Test func laterLayersWinAndAbsentKeysKeepDefaults() throws {
        let c = try TrainingConfiguration.layered([
            layer(["data": "synthetic", "steps": 50, "lr": 0.01, "head": "arcface"], "file"),
            layer(["steps": 7, "flip": false], "flags"),
        ])
        #expect(c.steps == 7)
        #expect(c.lr == 0.01)
        #expect(c.head == "arcface")
        #expect(c.flip == false)
        #expect(c.batch == TrainingConfiguration().batch)
        #expect(c.embeddingSize == nil)
    }

    @Test func textFormsOfTypedSettingsAreParsed() throws {
        let c = try EvaluationConfiguration.layered([layer(["weights": "w.safetensors", "data": "synthetic", "sizes": "8, 12,16", "seed": "3"])])
        #expect(c.sizes == [8, 12, 16])
        #expect(c.seed == 3)
    }

    @Test func unknownKeysAreNamedWithTheKnownOnes() {
        let text = message { _ = try TrainingConfiguration.layered([layer(["data": "synthetic", "stpes": 3, "btach": 2], "config file a.json")]) }
        #expect(text.contains("config file a.json"))
        #expect(text.contains("'btach', 'stpes'"))
        #expect(text.contains("known: data, model"))
    }

    @Test func wrongTypesNameTheKeyAndTheLayer() {
        let cases: [(String, Any, String)] = [("steps", 2.5, "an integer"), ("steps", "ten", "an integer"), ("lr", true, "a number"),
                                            ("flip", 3, "true or false"), ("seed", -1, "a non-negative integer"), ("model", 5, "text")]
        for (key, value, expected) in cases {
            let text = message { _ = try TrainingConfiguration.layered([layer(["data": "synthetic"]), layer([key: value], "flags")]) }
            #expect(text.contains("flags: '\(key)' needs \(expected)"), "\(key)=\(value): \(text)")
        }
        let list = message { _ = try EvaluationConfiguration.layered([layer(["weights": "w", "data": "synthetic", "sizes": [8, "x"]], "file")]) }
        #expect(list.contains("'sizes' needs"))
    }

    /// The experiment configurations (demo, digits) are decoded without option kinds: their
    /// numbers outside Float's range are named too, and digits' critic widths share adda's limit.
    @Test func experimentConfigurationsNameTheirBadNumbers() {
        let study = message {
            _ = try ConfigurationLayers.decode(CrossResolutionStudy.Configuration.self, defaults: CrossResolutionStudy.Configuration(),
                                               layers: [layer(["learningRate": 1e300], "study.json")])
        }
        #expect(study.contains("study.json: 'learningRate' needs a number of magnitude"), "\(study)")
        // A negative seed, which Foundation reports without its key, is named.
        let seeds = [message { _ = try ConfigurationLayers.decode(CrossResolutionStudy.Configuration.self, defaults: .init(),
                                                                  layers: [layer(["seeds": [-1]], "study.json")]) },
                     message { _ = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: .init(),
                                                                  layers: [layer(["seeds": [-1]], "study.json")]) }]
        for text in seeds { #expect(text.contains("study.json: 'seeds'"), "\(text)") }
        var digits = DigitsExperiment.Configuration()
        digits.criticHidden = [65536, 65536]
        #expect(message { _ = try DigitsExperiment(configuration: digits) }.contains("make a critic of 4327866368 weights, above the limit"))
        #expect(TransferSpec.Limits.criticProblem(inputDimension: 500, hidden: [500, 500], outputs: 2) == nil)
    }

    /// Demo configurations that passed validation and then trapped after the teacher had trained
    /// (session 15): each is now refused up front, naming the setting.
    @Test func studyConfigurationsAreCheckedBeforeTraining() throws {
        func refusal(_ change: (inout CrossResolutionStudy.Configuration) -> Void) -> String {
            var c = CrossResolutionStudy.Configuration.quick
            change(&c)
            return message { _ = try CrossResolutionStudy(configuration: c) }
        }
        let cases: [(String, (inout CrossResolutionStudy.Configuration) -> Void)] = [
            ("end it with up=64", { $0.imageSize = 64; $0.trainingDegradation = "size=8..20,up=32" }),
            ("family 'kd': kd distils class logits", { $0.families = [.init(name: "kd", transfer: "kd")] }),
            ("the study caches only featureMap 'stage2'", { $0.families = [.init(name: "n", transfer: "nst:map=stage3")] }),
            ("featureMap must be one of SmallFaceNet's maps", { $0.featureMap = "stage4" }),
            ("darkrank-soft ranks the other samples of a batch (soft(listLength: 4)), so it needs batches of at least 5", { $0.batchSize = 4 }),
            ("headMargin must be in [0, 1.5)", { $0.head = "arcface"; $0.headMargin = 3.2 }),
            ("family 'typo': transfer spec", { $0.families = [.init(name: "typo", transfer: "l2=5,nts=50")] }),
            ("size 40..48 is above the 32×32 HR image's shorter side 32", { $0.trainingDegradation = "size=40..48,up=32" }),
        ]
        for (expected, change) in cases { #expect(refusal(change).contains(expected), "\(expected): \(refusal(change))") }
        var larger = CrossResolutionStudy.Configuration.quick
        larger.imageSize = 64
        larger.trainingDegradation = "size=8..20,interp=bicubic,up=64"
        #expect(message { _ = try CrossResolutionStudy(configuration: larger) }.isEmpty)
        // The default LR view fits any image size: 16-px faces get size=8..16, up=16.
        for size in [8, 16, 24, 64] {
            var c = CrossResolutionStudy.Configuration.quick
            c.imageSize = size
            c.probeSizes = [8]
            #expect(message { _ = try CrossResolutionStudy(configuration: c) }.isEmpty, "\(size)")
        }
        var sixteen = CrossResolutionStudy.Configuration.quick
        sixteen.imageSize = 16
        #expect(sixteen.trainingView == "size=8..16,interp=bicubic,blur=0..0.6,noise=0..3,up=16")
        // The demo's 32-px study keeps the view its results were measured with, to the letter.
        #expect(CrossResolutionStudy.Configuration().trainingView == "size=8..20,interp=bicubic,blur=0..0.6,noise=0..3,up=32")
        // A config file may set it (it has no default value to list it among the known keys).
        let set = try ConfigurationLayers.decode(CrossResolutionStudy.Configuration.self, defaults: .init(), optionalKeys: CrossResolutionStudy.Configuration.optionalKeys,
                                                 layers: [layer(["trainingDegradation": "size=12,up=32"], "study.json")])
        #expect(set.trainingView == "size=12,up=32")

        // Data too small for a batch, or for the verification folds, is refused before training.
        let study = try CrossResolutionStudy(configuration: .quick)
        let faces = SyntheticFaces(identities: 24, imagesPerIdentity: 3, size: 32, seed: 1)
        let small = SubsetDataset(faces, indices: Array(0..<10))
        #expect(message { try study.check(train: small, test: faces) }.contains("batchSize 64 is larger than the 10 training images"))
        #expect(message { try study.check(train: faces, test: small) }.contains("the test set cannot give 10 folds"))
    }

    @Test func trainingDataNeedsTwoIdentities() throws {
        let root = temporaryFolder()
        defer { removeFolder(root) }
        try FileManager.default.createDirectory(atPath: root + "/only", withIntermediateDirectories: true)
        for name in ["a.pgm", "b.pgm"] {
            _ = FileManager.default.createFile(atPath: root + "/only/" + name, contents: Data("P5\n2 2\n255\n".utf8 + [0, 64, 128, 255]))
        }
        let c = try TrainingConfiguration.layered([layer(["data": root])])
        #expect(message { _ = try c.openTrainingData() }.contains("1 identity; training a margin head needs at least 2"))
    }

    @Test func badValuesAreRejectedByName() throws {
        let cases: [([String: Any], String)] = [
            ([:], "'data' is required"),
            (["steps": 0], "'steps' must be in 1...100000000"),
            (["batch": 1], "'batch' must be at least 2"),
            (["lr": -1.0], "'lr' must be a positive number"),
            (["optimizer": "lion"], "'optimizer' must be adam or sgd"),
            (["head": "sphereface"], "'head' must be arcface or cosface"),
            (["model": "resnet9"], "unknown model 'resnet9'"),
            (["input-size": 30], "input size must be a positive multiple of 8"),
            (["checkpoint-every": 0], "'checkpoint-every' must be at least 1"),
            (["data": "/no/such/folder"], "no such file or folder"),
            (["lr": 1e300], "'lr' needs a number of magnitude"),
            (["momentum": 1e-46], "'momentum' needs a number of magnitude"),
        ]
        for (values, expected) in cases {
            let base: [String: Any] = values.keys.contains("data") || values.isEmpty ? [:] : ["data": "synthetic"]
            let text = message { _ = try TrainingConfiguration.layered([layer(base), layer(values)]) }
            #expect(text.contains(expected), "\(values): \(text)")
        }
        // Settings without effect are refused when a run starts (not in stored settings, which a resume cannot change).
        let adamMomentum = try TrainingConfiguration.layered([layer(["data": "synthetic", "momentum": 0.5])])
        #expect(message { try adamMomentum.checkSettingsHaveEffect() }.contains("'momentum' is SGD's, and the optimizer is adam"))
        try TrainingConfiguration.layered([layer(["data": "synthetic", "optimizer": "sgd", "momentum": 0.5])]).checkSettingsHaveEffect()
        try TrainingConfiguration.layered([layer(["data": "synthetic", "momentum": 0.9])]).checkSettingsHaveEffect()  // the default repeated
        // One row per process only with synchronised BatchNorm.
        var split = try TrainingConfiguration.layered([layer(["data": "synthetic", "batch": 2])])
        #expect(message { try split.checkBatchSplits(over: 2) }.contains("'batch' 2 over 2 processes gives 1 per process"))
        split.syncBatchnorm = true
        try split.checkBatchSplits(over: 2)
        let distill = message { _ = try DistillationConfiguration.layered([layer(["data": "synthetic"])]) }
        #expect(distill.contains("'teacher' is required"))
        let gate = message { _ = try DistillationConfiguration.layered([layer(["data": "synthetic", "teacher": "t", "gate": 1.5])]) }
        #expect(gate.contains("'gate' is a critic accuracy"))
        let window = message { _ = try DistillationConfiguration.layered([layer(["data": "synthetic", "teacher": "t", "critic-collapse-window": 0])]) }
        #expect(window.contains("'critic-collapse-window' must be at least 1"))
        let degrade = message { _ = try DistillationConfiguration.layered([layer(["data": "synthetic", "teacher": "t", "degrade": "size=8,bogus=1"])]) }
        #expect(degrade.contains("bogus"))
        let evaluation = message { _ = try EvaluationConfiguration.layered([layer(["weights": "w"])]) }
        #expect(evaluation.contains("give 'data'"))
    }

    /// Every stored key has an option (a flag and a help line), and every option is stored.
    @Test func optionsAreExactlyTheJSONKeys() throws {
        var training = TrainingConfiguration()
        training.data = "synthetic"
        training.embeddingSize = 64
        training.inputSize = 32
        training.headMargin = 0.3
        var distillation = DistillationConfiguration()
        distillation.training = training
        distillation.teacher = "t"
        distillation.teacherModel = "smallfacenet"
        distillation.teacherEmbeddingSize = 64
        distillation.teacherInputSize = 32
        distillation.degrade = "size=8,up=32"
        distillation.gate = 0.6
        distillation.featureMap = "stage2"
        distillation.teacherCacheLimit = 1 << 30
        var evaluation = EvaluationConfiguration()
        evaluation.weights = "w"
        evaluation.model = "smallfacenet"
        evaluation.embeddingSize = 64
        evaluation.inputSize = 32
        evaluation.teacherWeights = "t"
        evaluation.teacherModel = "smallfacenet"
        evaluation.teacherEmbeddingSize = 64
        evaluation.teacherInputSize = 32
        evaluation.data = "synthetic"
        evaluation.pairs = "p.bin"
        evaluation.pairsPerFold = 20
        evaluation.sizes = [8]
        #expect(Set(training.jsonObject.keys) == Set(TrainingConfiguration.keys))
        #expect(Set(distillation.jsonObject.keys) == Set(DistillationConfiguration.keys))
        #expect(Set(evaluation.jsonObject.keys) == Set(EvaluationConfiguration.keys))
        #expect(DistillationConfiguration.keys.count == Set(DistillationConfiguration.keys).count, "a key is declared twice")
    }

    /// Config files are read with POSIX reads (fuzz-arguments found Foundation's read leaking
    /// on a short file): short, empty, missing and folder paths are clear errors.
    @Test func unreadableOrShortConfigFilesAreClearErrors() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        for (bytes, expected) in [("k", "not valid JSON"), ("", "not valid JSON"), ("[1]", "must hold a JSON object")] {
            let path = folder + "/short.json"
            try Data(bytes.utf8).write(to: URL(fileURLWithPath: path))
            #expect(message { _ = try ConfigurationLayer(contentsOf: path) }.contains(expected), "\(bytes)")
        }
        #expect(message { _ = try ConfigurationLayer(contentsOf: folder) }.contains("cannot read it"))
        #expect(message { _ = try ConfigurationLayer(contentsOf: folder + "/missing.json") }.contains("cannot read it"))
    }

    /// A key given twice in one object of a config file is refused with its path and line (JSON
    /// readers keep the last one silently); invalid JSON names its line and column.
    @Test func duplicateKeysAndSyntaxErrorsAreLocated() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/c.json"
        func read(_ text: String) -> String {
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return message { _ = try ConfigurationLayer(contentsOf: path) }
        }
        #expect(read(#"{"steps": 2, "steps": 3}"#)
                == "invalid configuration: config file \(path): 'steps' is given twice (again at line 1, column 14); give each setting once")
        #expect(read("{\n  \"a\": {\"b\": 1,\n        \"b\": 2}\n}").contains("'a.b' is given twice (again at line 3, column 9)"))
        #expect(read(#"{"families": [{"name": "x"}, {"name": "y", "name": "z"}]}"#).contains("'families[1].name' is given twice"))
        #expect(read(#"{"steps": 1, "st\u0065ps": 2}"#).contains("'steps' is given twice"))
        // Not repeated: one key in sibling objects, a key's name as a value, braces inside strings.
        #expect(read(#"{"families": [{"name": "a"}, {"name": "b"}], "x": "name", "y": "{\"x\": 1, \"x\": 2}", "name": 1}"#).isEmpty)
        #expect(read("{\n  \"steps\": 2,\n  \"lr\" 0.1\n}").contains("config file \(path): not valid JSON at line 3, column 8"))
        #expect(read(#"{"steps": 2,,}"#).contains("not valid JSON at line 1, column 13"))
        #expect(read("{\"steps\": [1, 2\n").contains("not valid JSON at line 2, column 1 (the end of the text)"))
        #expect(read("{\"a\": 1e5,\n \"flip\": tru}").contains("not valid JSON at line 2, column 10: 'tru' is not a JSON value"))
    }

    /// The duplicate scan keeps one set of keys per object and adds to it in place: a 200,000-key
    /// object (a generated config) with its repeat at the end is scanned in a fraction of a
    /// second (it took minutes while each key copied the whole set).
    @Test func aLargeObjectIsScannedForDuplicatesInLinearTime() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let path = folder + "/big.json", count = 200_000
        let keys = (0..<count).map { "\"k\($0)\": \($0)" }.joined(separator: ",\n")
        _ = FileManager.default.createFile(atPath: path, contents: Data("{\n\(keys),\n\"k7\": 0}".utf8))
        let text = message { _ = try ConfigurationLayer(contentsOf: path) }
        #expect(text.contains("'k7' is given twice (again at line \(count + 2), column 1)"), "\(text.prefix(300))")
        // Without the repeat, its stray keys are counted, not all listed (1.8 MB of stderr).
        let stray = Dictionary(uniqueKeysWithValues: (0..<count).map { ("k\($0)", $0 as Any) })
        let unknown = message { _ = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: .init(), layers: [layer(stray, "big.json")]) }
        #expect(unknown.contains("big.json: unknown settings 'k0', 'k1', 'k10', 'k100', 'k1000', 'k10000', 'k100000', 'k100001', 'k100002', 'k100003', … (200000 in all); known: "),
                "\(unknown.prefix(300))")
        #expect(unknown.count < 2_000)
    }

    /// `null` unsets an optional setting; a required one says it is null and what it needs.
    @Test func aNullRequiredSettingIsNamedWithWhatItNeeds() throws {
        let steps = message { _ = try TrainingConfiguration.layered([layer(["data": "synthetic", "steps": NSNull()], "config file c.json")]) }
        #expect(steps == "invalid configuration: config file c.json: 'steps' is null; it needs an integer (null only unsets optional settings)")
        #expect(try TrainingConfiguration.layered([layer(["data": "synthetic", "head-margin": NSNull()])]).headMargin == nil)
        let cases: [(String, String)] = [("adaptationSteps", "an integer"), ("seeds", "a list"), ("beta1", "a number"), ("uspsInterpolation", "text")]
        for (key, expected) in cases {
            let text = message {
                _ = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: .init(), layers: [layer([key: NSNull()], "d.json")])
            }
            #expect(text.contains("d.json: '\(key)' is null; it needs \(expected)"), "\(key): \(text)")
        }
        let seed = message {
            _ = try ConfigurationLayers.decode(CrossResolutionStudy.Configuration.self, defaults: .init(), layers: [layer(["teacherSeed": NSNull()], "s.json")])
        }
        #expect(seed.contains("s.json: 'teacherSeed' is null; it needs a non-negative integer"), "\(seed)")
    }

    /// Every step and sample count — a run's, the study's, the digits experiment's — is a whole
    /// number up to one bound; seeds are distinct in every list of them.
    @Test func stepCountsAndSeedsShareTheirRules() throws {
        let limit = SettingChecks.maximumCount
        #expect(message { _ = try TrainingConfiguration.layered([layer(["data": "synthetic", "steps": 1e12])]) }
            .contains("'steps' must be in 1...\(limit), got 1000000000000"))
        #expect(message { _ = try TrainingConfiguration.layered([layer(["data": "synthetic", "steps": 1e300])]) }.contains("'steps' needs an integer"))
        func digits(_ values: [String: Any]) -> String {
            message {
                let c = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: .init(), layers: [layer(values, "d5.json")])
                _ = try DigitsExperiment(configuration: c)
            }
        }
        for key in ["mnistTrainingSamples", "uspsTrainingSamples", "sourceSteps", "adaptationSteps", "dannSteps"] {
            #expect(digits([key: 1e12]).contains("\(key) must be in"), "\(key): \(digits([key: 1e12]))")
            #expect(!digits([key: 2.5]).isEmpty && !digits([key: 1e300]).isEmpty, "\(key)")
        }
        #expect(digits(["adaptationSteps": 1e12]).contains("adaptationSteps must be in 0...\(limit), got 1000000000000"))
        #expect(digits(["adaptationSteps": limit]).isEmpty && digits(["adaptationSteps": 0]).isEmpty)
        #expect(digits(["seeds": [1, 1]]).contains("seeds must be distinct, got 1,1"))
        // A curve point every N steps needs a stage of at least N steps.
        #expect(digits(["curveEvery": 99_999_999]).contains("curveEvery (--curve) 99999999 is larger than the longest training stage (2500 steps)"))
        #expect(digits(["curveEvery": 1001, "methods": ["dann"]]).contains("longest training stage (1000 steps)"))
        #expect(digits(["curveEvery": 2500]).isEmpty)
        var study = CrossResolutionStudy.Configuration.quick
        study.seeds = [1, 1]
        #expect(message { _ = try CrossResolutionStudy(configuration: study) }.contains("seeds must be distinct, got 1,1"))
        study.seeds = [1]
        study.teacherSteps = limit + 1
        #expect(message { _ = try CrossResolutionStudy(configuration: study) }.contains("teacherSteps must be in 1...\(limit)"))
    }

    /// A preset (`--quick`) as a layer holds only what it changes, so it can lie over a file.
    @Test func aPresetLayerHoldsWhatItChanges() throws {
        let quick = ConfigurationLayers.layer("--quick", preset: DigitsExperiment.Configuration.quick, over: .init())
        #expect(Set(quick.values.keys) == ["sourceSteps", "adaptationSteps", "dannSteps", "seeds"])
        let file = layer(["sourceSteps": 7, "batchSize": 10], "d.json")
        let c = try ConfigurationLayers.decode(DigitsExperiment.Configuration.self, defaults: .init(), layers: [file, quick])
        #expect(c.sourceSteps == 40 && c.batchSize == 10 && c.seeds == [1])
    }

    @Test func settingsFileRoundTrips() throws {
        var c = DistillationConfiguration()
        c.training.data = "synthetic:identities=4"
        c.training.steps = 12
        c.training.lr = 0.0015
        c.teacher = "runs/teacher"
        c.transfer = "l2=5,adda"
        c.gate = 0.55
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let path = scratch + "/settings.json"
        try c.jsonData().write(to: URL(fileURLWithPath: path))
        let read = try DistillationConfiguration(contentsOf: path)
        #expect(read == c)
        #expect(read.changedKeys(comparedTo: c).isEmpty)
        var other = read
        other.training.lr = 0.01
        other.gate = nil
        #expect(other.changedKeys(comparedTo: c) == ["gate", "lr"])
    }

    @Test func resumeKeepsSettingsExceptHarmlessOnes() throws {
        var c = TrainingConfiguration()
        c.data = "synthetic:identities=4"
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try TrainingRunFolder.create(folder, configuration: c, overwrite: false)
        let same = try TrainingRunFolder.resumedConfiguration(folder, as: TrainingConfiguration.self,
                                                              layers: [layer(["data": "synthetic:identities=4", "workers": 1])])
        #expect(same.workers == 1)
        let text = message { _ = try TrainingRunFolder.resumedConfiguration(folder, as: TrainingConfiguration.self, layers: [layer(["lr": 0.5])]) }
        #expect(text.contains("'lr' (run: 0.002"), "\(text)")
        let path = message { _ = try TrainingRunFolder.resumedConfiguration(folder, as: TrainingConfiguration.self, layers: [layer(["data": scratch])]) }
        #expect(path.contains("now: \"\(scratch)\")"), "paths are shown as written: \(path)")
        let missing = message { _ = try TrainingRunFolder.resumedConfiguration(folder + "-nope", as: TrainingConfiguration.self, layers: []) }
        #expect(missing.contains("no such folder"))
        let existing = message { _ = try TrainingRunFolder.create(folder, configuration: c, overwrite: false) }
        #expect(existing.contains("--force"))
        // A folder whose stored settings hold one without effect (written before that was refused) still resumes.
        var old = c
        old.momentum = 0.5
        _ = try TrainingRunFolder.create(scratch + "/old", configuration: old, overwrite: false)
        #expect(try TrainingRunFolder.resumedConfiguration(scratch + "/old", as: TrainingConfiguration.self, layers: []).momentum == 0.5)
    }
}
