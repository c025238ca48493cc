import Foundation
import Testing
import CrossRes
import TestSupport

/// The built `crossres` executable, next to the test bundle (`nil` when it was not built).
enum CrossResBinary {
    static let url = builtExecutable("crossres")

    /// Runs `crossres arguments` in `folder`; returns the exit status and standard output + error.
    static func run(_ arguments: [String], in folder: String) throws -> (status: Int32, output: String) {
        let result = try Subprocess.run(url!.path, arguments, in: URL(fileURLWithPath: folder))
        return (result.status, result.combined)
    }
}

@Suite(.enabled(if: CrossResBinary.url != nil, "the crossres executable was not found next to the test bundle; build it to run these"))
struct CLITests {
    @Test func everyCommandHasHelpListingItsOptions() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let expected: [(String, [ConfigurationOption])] = [("train-teacher", TrainingConfiguration.options),
                                                           ("distill", DistillationConfiguration.options),
                                                           ("evaluate", EvaluationConfiguration.options), ("pack", []), ("samples", []), ("bench", [])]
        for (command, options) in expected {
            let (status, output) = try CrossResBinary.run([command, "--help"], in: folder)
            #expect(status == 0, "\(command) --help")
            #expect(output.hasPrefix("usage: crossres \(command)"))
            #expect(output.contains("--config FILE"))
            for option in options { #expect(output.contains(option.flag + " "), "\(command) --help lacks \(option.flag)") }
        }
        // identification.svg needs test data (the help promised it always).
        let evaluate = try CrossResBinary.run(["evaluate", "--help"], in: folder).output
        #expect(evaluate.contains("verification.svg and, with --data, identification.svg"), "\(evaluate)")
        let (status, output) = try CrossResBinary.run(["pack", "--imgaes", "x"], in: folder)
        #expect(status == 2)
        #expect(output.contains("unknown option '--imgaes'"))
    }

    @Test func trainTeacherWritesItsRunFolderAndNeverOverwritesIt() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let arguments = ["train-teacher", "--data", "synthetic:identities=4,images=4,size=16", "--input-size", "16",
                         "--embedding-size", "8", "--steps", "2", "--batch", "8", "--output", "run"]
        let (status, output) = try CrossResBinary.run(arguments, in: folder)
        #expect(status == 0, "\(output)")
        for name in ["settings.json", "metrics.jsonl", "checkpoint.safetensors", "backbone.safetensors", "result.json"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/run/" + name), "\(name)")
        }
        let again = try CrossResBinary.run(arguments, in: folder)
        #expect(again.status != 0 && again.output.contains("--force"))
        let settings = FileManager.default.contents(atPath: folder + "/run/settings.json")
        let resumed = try CrossResBinary.run(["train-teacher", "--output", "run", "--resume", "--checkpoint-every", "5"], in: folder)
        #expect(resumed.status == 0 && resumed.output.contains("nothing to resume"), "\(resumed.output)")
        #expect(FileManager.default.contents(atPath: folder + "/run/settings.json") == settings, "a finished run's settings stay as they finished")

        try Data(#"{"data": "synthetic", "stepz": 3}"#.utf8).write(to: URL(fileURLWithPath: folder + "/bad.json"))
        let bad = try CrossResBinary.run(["train-teacher", "--config", "bad.json", "--output", "other"], in: folder)
        #expect(bad.status != 0 && bad.output.contains("unknown key 'stepz'"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/other"))

        // A one-letter output replaced with --force (Foundation's deletingLastPathComponent trapped on `x`).
        let short = Array(arguments.dropLast()) + ["x"]
        #expect(try CrossResBinary.run(short, in: folder).status == 0)
        for name in ["x", "x/"] {
            let replaced = try CrossResBinary.run(Array(arguments.dropLast()) + [name, "--force"], in: folder)
            #expect(replaced.status == 0 && !replaced.output.contains("crashed"), "\(name): \(replaced.output)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["bad.json", "run", "x"])
    }

    /// A run started with relative paths (`--teacher teacher`) resumes from any directory:
    /// its settings.json stores them absolute.
    @Test func resumeWorksFromAnotherDirectory() throws {
        let folder = temporaryFolder(), elsewhere = temporaryFolder()
        defer { removeFolder(folder); removeFolder(elsewhere) }
        let teacher = try CrossResBinary.run(["train-teacher", "--data", "synthetic:identities=4,images=4,size=16", "--input-size", "16",
                                              "--embedding-size", "8", "--steps", "2", "--batch", "8", "--output", "teacher"], in: folder)
        #expect(teacher.status == 0, "\(teacher.output)")
        let student = try CrossResBinary.run(["distill", "--teacher", "teacher", "--data", "synthetic:identities=4,images=4,size=16",
                                              "--input-size", "16", "--embedding-size", "8", "--steps", "2", "--batch", "8", "--output", "student"], in: folder)
        #expect(student.status == 0, "\(student.output)")
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/student/settings.json"))) as? [String: Any]
        #expect(settings?["teacher"] as? String == URL(fileURLWithPath: folder + "/teacher").standardizedFileURL.path)
        #expect(settings?["data"] as? String == "synthetic:identities=4,images=4,size=16")
        // The checkpoint stores the same absolute settings, so a resumed run's checkpoint is the
        // uninterrupted one's byte for byte.
        let stored = try Checkpoint(contentsOf: folder + "/student/" + TrainingRunFolder.checkpointName).metadata["crossres.settings"]
        let checkpointSettings = try JSONSerialization.jsonObject(with: Data((stored ?? "").utf8)) as? [String: Any]
        #expect(checkpointSettings?["teacher"] as? String == settings?["teacher"] as? String)
        let resumed = try CrossResBinary.run(["distill", "--output", folder + "/student", "--resume"], in: elsewhere)
        #expect(resumed.status == 0 && resumed.output.contains("nothing to resume"), "\(resumed.output)")
        let repeated = try CrossResBinary.run(["distill", "--output", "student", "--resume", "--teacher", "teacher"], in: folder)
        #expect(repeated.status == 0, "a relative path naming the stored one is no change: \(repeated.output)")
        // A run folder resumes with the command that started it.
        for (command, other) in [("train-teacher", "student"), ("distill", "teacher")] {
            let wrong = try CrossResBinary.run([command, "--output", other, "--resume"] + (command == "distill" ? ["--teacher", "teacher"] : []), in: folder)
            #expect(wrong.status != 0 && wrong.output.contains("cannot resume \(other) with this command: its settings.json does not fit it"), "\(wrong.output)")
            #expect(wrong.output.contains("resumes with the command that started it"))
        }
    }

    /// Inputs that crashed or destroyed files before a review (session 13): each is now an error
    /// naming the problem, and nothing is written.
    @Test func badInputIsRefusedBeforeAnythingIsWritten() throws {
        let folder = temporaryFolder(), data = "synthetic:identities=4,images=4,size=16"
        defer { removeFolder(folder) }
        let tiny = ["--input-size", "16", "--embedding-size", "8", "--steps", "1", "--batch", "8"]
        let teacher = try CrossResBinary.run(["train-teacher", "--data", data, "--output", "teacher"] + tiny, in: folder)
        #expect(teacher.status == 0, "\(teacher.output)")
        try FileManager.default.createDirectory(atPath: folder + "/mine", withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: folder + "/mine/notes.txt", contents: Data("mine".utf8))
        let cases: [(arguments: [String], message: String)] = [
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s1", "--transfer", "kd"] + tiny, "kd distils class logits"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s2", "--transfer", "darkrank-soft:k=4",
              "--input-size", "16", "--embedding-size", "8", "--steps", "1", "--batch", "4"], "needs batches of at least 5 per process, got 4"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "teacher", "--force"] + tiny, "teacher is the input teacher"),
            (["train-teacher", "--config", "teacher/settings.json", "--output", "teacher", "--force"], "holds the input teacher/settings.json"),
            (["evaluate", "--weights", "teacher", "--data", " teacher/../teacher ", "--output", "teacher", "--force"], "is the input"),
            (["train-teacher", "--data", data, "--output", "mine", "--force"] + tiny, "not a CrossRes output"),
            (["train-teacher", "--data", data, "--output", "s3", "--lr", "1e300"] + tiny, "'lr' needs a number of magnitude"),
            (["train-teacher", "--data", data, "--output", "s4", "--embedding-size", "100000000", "--steps", "1"], "embedding size must be in 1...65536"),
            (["train-teacher", "--config", "--steps", "1", "--output", "s5"], "--config needs a FILE"),
            (["pack", "--images", data, "--output", "p.rec", "--pairs", "p.idx"], "--pairs must name a .bin file (insightface's verification format), got 'p.idx'"),
            (["pack", "--images", data, "--output", "p.rec", "--pairs", "p.rec", "--force"], "--pairs must name a .bin file"),
            // identities × images was unbounded: 10¹¹ images aborted every command on a 4.8 TB allocation.
            (["train-teacher", "--data", "synthetic:identities=1000000,images=100000", "--output", "big"] + tiny,
             "1000000 identities × 100000 images = 100000000000 images, more than the limit of 16777216"),
            (["samples", "--data", "synthetic:identities=1000000,images=100000", "--output", "big.png"], "more than the limit of 16777216"),
            (["pack", "--images", "synthetic:identities=1000000,images=100000", "--output", "big.rec"], "more than the limit of 16777216"),
            // An "LR" view larger than the HR image.
            (["samples", "--data", data, "--output", "big.png", "--degrade", "size=64"],
             "--degrade: degradation spec 'size=64,interp=bicubic': size 64 is above the 16×16 HR image's shorter side 16"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s11", "--degrade", "size=32,up=16"] + tiny,
             "degradation spec 'size=32,interp=bicubic,up=16': size 32 is above the 16×16 HR image's shorter side 16"),
            (["pack", "--images", data, "--output", "q.rec", "--pairs", "q.bin", "--pairs-per-fold", "0"], "--pairs-per-fold must be at least 2"),
            (["samples", "--data", data, "--output", "x.png", "--columns", "9223372036854775807"], "--columns must be in 1...10000"),
            (["pack", "--images", data, "--output", "r.rec", "--seed", "3"], "draw the pairs of --pairs, which is not given"),
            (["pack", "--images", data, "--output", "r.rec", "--format", "png", "--quality", "80"], "PNG is lossless"),
            (["evaluate", "--weights", "teacher", "--data", data, "--teacher-input-size", "16", "--output", "e"], "'teacher-input-size' describes the gallery model"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s6", "--feature-map", "stage2"] + tiny, "but there is no transfer term"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s6", "--transfer", "l2=5", "--feature-map", "stage2"] + tiny,
             "but the transfer 'l2=5' has none"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s6", "--transfer", "l2=5,nst=2:mapp=stage2"] + tiny,
             "transfer spec: 'nst=2:mapp=stage2': unknown option 'mapp' for nst"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s6", "--transfer", "nst:map=stage2", "--feature-map", "bogus"] + tiny,
             "'feature-map' chooses the map of the nst terms without :map=, but the transfer 'nst:map=stage2' has none"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s6", "--transfer", "nst:student-map=stage2:teacher-map=stage2", "--feature-map", "bogus"] + tiny,
             "but the transfer 'nst:student-map=stage2:teacher-map=stage2' has none"),
            // The teacher cache's memory limit: a size with a clear unit, refused before the run folder when too small.
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s9", "--teacher-cache-limit", "6G"] + tiny,
             "'teacher-cache-limit' needs a size in bytes such as 6GiB, 512MiB, 1.5GB or 1000000, got '6G': unknown unit 'G'"),
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s10", "--cache-teacher", "true", "--flip", "false",
              "--teacher-cache-limit", "100B"] + tiny, "above the limit of 100 bytes (teacher-cache-limit 100 bytes per machine)"),
            // Settings without effect (session 15): the critic's without adda, SGD's momentum with Adam, a seed with fixed pairs.
            (["distill", "--teacher", "teacher", "--data", data, "--output", "s7", "--transfer", "l2", "--critic-lr", "0.001",
              "--stop-on-critic-collapse", "true"] + tiny, "'critic-lr', 'stop-on-critic-collapse' set how the ADDA critic trains, but the transfer 'l2' has no critic"),
            (["train-teacher", "--data", data, "--output", "s8", "--momentum", "0.5"] + tiny, "'momentum' is SGD's, and the optimizer is adam"),
            (["evaluate", "--weights", "teacher", "--pairs", "teacher/settings.json", "--seed", "3", "--output", "e2"], "'seed' draws pairs from 'data'"),
            (["demo", "--quick", "--data", data, "--output", "d"], "the demo needs at least 22"),
        ]
        for (arguments, message) in cases {
            let (status, output) = try CrossResBinary.run(arguments, in: folder)
            #expect(status != 0 && output.contains(message) && !output.contains("Fatal error"), "\(arguments.joined(separator: " ")): \(output)")
        }
        // Every check of `samples` is a usage error (status 2), its degradation spec's included.
        let spec = try CrossResBinary.run(["samples", "--data", data, "--output", "y.png", "--degrade", "size=abc"], in: folder)
        #expect(spec.status == 2 && spec.output.contains("--degrade:"), "\(spec.output)")
        // So are a value of the wrong type and a bad --config file of `pack` and `samples` (they were 1).
        _ = FileManager.default.createFile(atPath: folder + "/teacher/broken.json", contents: Data(#"{"count": 3, "count": 4}"#.utf8))
        for (arguments, message) in [
            (["samples", "--data", data, "--output", "y.png", "--count", "abc"], "'count' needs an integer"),
            (["pack", "--images", data, "--output", "y.rec", "--quality", "abc"], "'quality' needs an integer"),
            (["samples", "--config", "teacher/broken.json", "--data", data, "--output", "y.png"], "count"),
            (["pack", "--config", "teacher/broken.json", "--images", data, "--output", "y.rec"], "count"),
        ] {
            let (status, output) = try CrossResBinary.run(arguments, in: folder)
            #expect(status == 2 && output.contains(message), "\(arguments.joined(separator: " ")): \(status) \(output)")
        }
        try FileManager.default.removeItem(atPath: folder + "/teacher/broken.json")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(left == ["mine", "teacher"], "written: \(left)")
        #expect(FileManager.default.fileExists(atPath: folder + "/mine/notes.txt"))
        #expect(FileManager.default.fileExists(atPath: folder + "/teacher/backbone.safetensors"))
    }

    /// Command-line mistakes found by a probe of the command line (session 17): each stops before
    /// any work with a message naming it, status 2 for `demo`, `digits` and `bench` (which check
    /// their whole line and configuration first), and nothing is written.
    @Test func commandLineMistakesAreRefusedBeforeAnyWork() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        func file(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(text.utf8)) }
        file("dup.json", #"{"data": "synthetic", "steps": 2, "steps": 3}"#)
        file("bad.json", "{\n  \"steps\": 2,\n  \"lr\" 0.1\n}")
        file("null.json", #"{"data": "synthetic", "steps": null}"#)
        file("d5.json", #"{"adaptationSteps": 1e12}"#)
        file("study.json", #"{"teacherSteps": 1e12, "seeds": [1, 1]}"#)
        file("batch.json", #"{"batchSize": 100000}"#)
        let tiny = "synthetic:identities=4,images=4,size=16", nowhere = "no-such-data"
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["demo", "--seeds", "1,1", "--output", "dm"], 2, "seeds must be distinct, got 1,1"),
            (["digits", "--seeds", "1,1", "--data", nowhere, "--output", "dg"], 2, "seeds must be distinct, got 1,1"),
            (["bench", "--iterations", "3", "--iterations", "4"], 2, "--iterations given twice"),
            (["bench", "--list", "--list"], 2, "--list given twice"),
            (["bench", "--iterations", "0"], 2, "--iterations needs a positive integer, got 0"),
            (["bench", "--iterations", "x"], 2, "'iterations' needs an integer"),
            (["bench", "--list", "--threads", "100000"], 2, "--threads needs at most \(Parallel.maximumThreadCount), got 100000"),
            // --list stops before any timing: the JSON path is checked before it (and before a run).
            (["bench", "--list", "--json", "nodir/x.json"], 2, "cannot write nodir/x.json: folder"),
            (["bench", "--list", "--json", "."], 2, ". is a folder; it must name a file"),
            (["train-teacher", "--config", "dup.json", "--output", "t1"], 1, "config file dup.json: 'steps' is given twice (again at line 1, column 35)"),
            (["train-teacher", "--config", "bad.json", "--output", "t2"], 1, "config file bad.json: not valid JSON at line 3, column 8"),
            (["train-teacher", "--config", "null.json", "--output", "t3"], 1, "config file null.json: 'steps' is null; it needs an integer"),
            (["digits", "--quick", "--config", "bad.json", "--output", "dg"], 2, "config file bad.json: not valid JSON at line 3, column 8"),
            (["demo", "--config", "dup.json", "--output", "dm"], 2, "config file dup.json: 'steps' is given twice"),
            (["digits", "--config", "d5.json", "--data", nowhere, "--output", "dg"], 2, "adaptationSteps must be in 0...100000000, got 1000000000000"),
            (["digits", "--quick", "--curve", "99999999", "--data", nowhere, "--output", "dg"], 2,
             "curveEvery (--curve) 99999999 is larger than the longest training stage (40 steps)"),
            (["train-teacher", "--stpes=3", "--output", "t4"], 2, "unknown option '--stpes'; see crossres train-teacher --help"),
            (["train-teacher", "--data", tiny, "--steps=0", "--output=t5"], 1, "'steps' must be in 1...100000000, got 0"),
            (["train-teacher", "--data", tiny, "--output", ""], 2, "--output is empty; give a DIR"),
            (["demo", "--output", ""], 2, "--output is empty; give a DIR"),
            (["digits", "--seeds", "", "--output", "dg"], 2, "'seeds' needs comma-separated integers"),
            (["digits", "--seeds", "-1", "--output", "dg"], 2, "--seeds needs comma-separated non-negative integers"),
            (["demo", "--seeds", "", "--output", "dm"], 2, "'seeds' needs comma-separated integers"),
            (["demo", "--seeds", "-1", "--output", "dm"], 2, "--seeds needs comma-separated non-negative integers"),
            (["demo", "--config", "study.json", "--output", "dm"], 2, "teacherSteps must be in 1...100000000"),
            (["digits", "--config", "nowhere.json", "--output", "dg"], 2, "config file nowhere.json: cannot read it"),
            // --quick wins over the file (as every option does): its step counts replace the file's, so these pass
            // the configuration's checks and stop only at the data.
            (["digits", "--quick", "--config", "d5.json", "--data", nowhere, "--output", "dg"], 2, "set --data DIR"),
            (["demo", "--quick", "--config", "study.json", "--data", tiny, "--output", "dm"], 2, "the demo needs at least 22"),
            // The study's checks of the data (batch, folds) are the demo's too.
            (["demo", "--quick", "--config", "batch.json", "--data", "synthetic:identities=24,images=2,size=16", "--output", "dm"], 2,
             "batchSize 100000 is larger than the"),
        ]
        for (arguments, status, message) in cases {
            let (actual, output) = try CrossResBinary.run(arguments, in: folder)
            #expect(actual == status && output.contains(message) && !output.contains("options:"), "\(arguments.joined(separator: " ")): \(actual) \(output)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(left == ["bad.json", "batch.json", "d5.json", "dup.json", "null.json", "study.json"], "written: \(left)")
    }

    /// `demo --data yaleb` stands for the default Extended Yale B folder: an output inside it is
    /// refused before the data is read (the literal "yaleb" was checked, and the demo wrote into
    /// the data). A stand-in folder at the default path, relative to the working folder.
    @Test func demoRefusesAnOutputInsideTheDefaultYaleFolder() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let yale = folder + "/shared/data/extended_yale_b_cropped/CroppedYale"
        try FileManager.default.createDirectory(atPath: yale + "/yaleB01", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/work", withIntermediateDirectories: true)
        let (status, output) = try CrossResBinary.run(["demo", "--quick", "--data", "yaleb", "--output", "../shared/data/extended_yale_b_cropped/CroppedYale/run1"],
                                                      in: folder + "/work")
        #expect(status != 0 && output.contains("run1 is inside the input folder ../shared/data/extended_yale_b_cropped/CroppedYale"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: yale) == ["yaleB01"])
    }

    /// Outputs written into an image folder read were trained on as faces by the next run
    /// (`samples --output yale/yaleB01/sheet.png`); images in the data root were dropped silently.
    @Test func outputsIntoTheDataAreRefused() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        for identity in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: folder + "/faces/" + identity, withIntermediateDirectories: true)
            for image in ["1.pgm", "2.pgm", "3.pgm", "4.pgm"] {
                _ = FileManager.default.createFile(atPath: folder + "/faces/\(identity)/\(image)", contents: Data("P5\n4 4\n255\n".utf8 + [UInt8](repeating: 90, count: 16)))
            }
        }
        try FileManager.default.createSymbolicLink(atPath: folder + "/linked", withDestinationPath: folder + "/faces")
        let tiny = ["--input-size", "16", "--embedding-size", "8", "--steps", "1", "--batch", "4"]
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["samples", "--data", "faces", "--size", "16", "--output", "faces/a/sheet.png"], 2, "faces/a/sheet.png is inside the input folder faces"),
            (["samples", "--data", "linked/", "--size", "16", "--output", "faces/b/sheet.png"], 2, "is inside the input folder linked/"),
            (["pack", "--images", "faces", "--output", "faces/a/x.rec"], 2, "faces/a/x.rec is inside the input folder faces"),
            (["pack", "--images", "faces", "--output", "x.rec", "--pairs", "linked/b/x.bin"], 2, "linked/b/x.bin is inside the input folder faces"),
            (["train-teacher", "--data", "faces", "--output", "faces/run"] + tiny, 1, "faces/run is inside the input folder"),
            (["train-teacher", "--data", "./faces/../faces", "--output", "linked/run"] + tiny, 1, "is inside the input folder"),
        ]
        for (arguments, status, message) in cases {
            let (actual, output) = try CrossResBinary.run(arguments, in: folder)
            #expect(actual == status && output.contains(message) && !output.contains("Fatal error"), "\(arguments.joined(separator: " ")): \(output)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/faces/a").sorted() == ["1.pgm", "2.pgm", "3.pgm", "4.pgm"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/faces/b").count == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["faces", "linked"])
        // Beside the data is fine; an image left in its root is an error naming it, not dropped.
        let (status, output) = try CrossResBinary.run(["samples", "--data", "faces", "--size", "16", "--output", "sheet.png"], in: folder)
        #expect(status == 0, "\(output)")
        try FileManager.default.moveItem(atPath: folder + "/sheet.png", toPath: folder + "/faces/sheet.png")
        let (stray, message) = try CrossResBinary.run(["samples", "--data", "faces", "--size", "16", "--output", "again.png"], in: folder)
        #expect(stray == 1 && message.contains("an image is directly in the folder, in no identity sub-folder: sheet.png"), "\(message)")
    }

    /// Outputs under the run folder they read as weights (`evaluate --weights teacher --output
    /// teacher/eval`, a student under its teacher) run; `--force` over that run folder then
    /// refuses, naming the output inside, and both stay. Inside a data folder is still refused.
    @Test func outputsInsideARunFolderReadAsWeightsRun() throws {
        let folder = temporaryFolder(), data = "synthetic:identities=20,images=4,size=16"
        defer { removeFolder(folder) }
        let tiny = ["--input-size", "16", "--embedding-size", "8", "--steps", "1", "--batch", "8"]
        let teacher = try CrossResBinary.run(["train-teacher", "--data", data, "--output", "teacher"] + tiny, in: folder)
        #expect(teacher.status == 0, "\(teacher.output)")
        let evaluation = try CrossResBinary.run(["evaluate", "--weights", "teacher", "--data", data, "--sizes", "8", "--output", "teacher/eval"], in: folder)
        #expect(evaluation.status == 0, "\(evaluation.output)")
        let student = try CrossResBinary.run(["distill", "--teacher", "teacher", "--data", data, "--output", "teacher/students/l2"] + tiny, in: folder)
        #expect(student.status == 0, "\(student.output)")
        let replaced = try CrossResBinary.run(["train-teacher", "--data", data, "--output", "teacher", "--force"] + tiny, in: folder)
        #expect(replaced.status != 0 && replaced.output.contains("teacher holds the CrossRes output teacher/eval"), "\(replaced.output)")
        for path in ["teacher/backbone.safetensors", "teacher/eval/report.json", "teacher/students/l2/backbone.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: folder + "/" + path), "\(path)")
        }
        try FileManager.default.createDirectory(atPath: folder + "/faces/a", withIntermediateDirectories: true)
        let intoData = try CrossResBinary.run(["evaluate", "--weights", "teacher", "--data", "faces", "--output", "faces/eval"], in: folder)
        #expect(intoData.status != 0 && intoData.output.contains("faces/eval is inside the input folder faces"), "\(intoData.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/faces") == ["a"])
    }

    /// `samples` of 16-px faces warned with its default LR view (`size=8..20` reaches above 16):
    /// the default is fitted to the images; a spec given as it is keeps the warning.
    @Test func samplesFitsItsDefaultViewToSmallFaces() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let data = "synthetic:identities=2,images=2,size=16"
        let (status, output) = try CrossResBinary.run(["samples", "--data", data, "--output", "a.png"], in: folder)
        #expect(status == 0 && !output.contains("warning") && output.contains("LR view size=8..16,interp=bicubic,blur=0..0.6,noise=0..3"), "\(output)")
        let given = try CrossResBinary.run(["samples", "--data", data, "--output", "b.png", "--degrade", "size=8..20"], in: folder)
        #expect(given.status == 0 && given.output.contains("size 8..20 reaches 20, above the 16×16 HR image's shorter side 16"), "\(given.output)")
    }

    /// A report whose write fails (a full disk; here `ulimit -f`, its signal ignored so that the
    /// write returns an error) is an error that leaves no temporary file taking the space.
    @Test func aFailedReportWriteLeavesNoTemporaryFile() throws {
        let folder = temporaryFolder(), data = "synthetic:identities=20,images=4,size=16"
        defer { removeFolder(folder) }
        let teacher = try CrossResBinary.run(["train-teacher", "--data", data, "--input-size", "16", "--embedding-size", "8",
                                              "--steps", "1", "--batch", "8", "--output", "teacher"], in: folder)
        #expect(teacher.status == 0, "\(teacher.output)")
        // Files of at most one block (512 or 1024 bytes): report.md is longer.
        let limited = try Subprocess.run("/bin/sh", ["-c", #"trap "" XFSZ; ulimit -f 1; exec "$0" "$@""#, CrossResBinary.url!.path,
                                                     "evaluate", "--weights", "teacher", "--data", data, "--sizes", "8", "--output", "ev"],
                                         in: URL(fileURLWithPath: folder))
        #expect(limited.status == 1 && limited.combined.contains("cannot write"), "\(limited.combined)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/ev")) ?? []
        #expect(!left.contains { $0.hasSuffix(".tmp") }, "\(left)")
    }

    /// A `--config` that is a pipe (`<(…)`, `/dev/stdin`) is read to its end (it was read as
    /// empty: "not valid JSON … Unexpected end of file"); one that never ends stops at 16 MiB.
    @Test func aConfigFromAPipeIsReadToItsEnd() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        let settings = #"{"data": "synthetic:identities=4,images=4,size=16", "input-size": 16, "embedding-size": 8, "steps": 1, "batch": 8}"#
        let piped = try Subprocess.run("/bin/sh", ["-c", #"printf '%s' "$1" | "$0" train-teacher --config /dev/stdin --output run"#,
                                                   CrossResBinary.url!.path, settings], in: URL(fileURLWithPath: folder))
        #expect(piped.status == 0, "\(piped.combined)")
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/run/settings.json"))) as? [String: Any]
        #expect(stored?["steps"] as? Int == 1 && stored?["batch"] as? Int == 8, "\(String(describing: stored))")
        let endless = try CrossResBinary.run(["train-teacher", "--config", "/dev/zero", "--output", "zero"], in: folder)
        #expect(endless.status == 1 && endless.output.contains("config file /dev/zero: more than 16 MiB"), "\(endless.output)")
    }

    /// A `CROSSRES_THREADS` that is not a thread count is refused before any command runs (the
    /// library started with all cores for a word, and with every thread asked for, unbounded).
    @Test func aBadThreadCountInTheEnvironmentIsRefused() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        for value in ["100000", "four"] {
            let result = try Subprocess.run(CrossResBinary.url!.path, ["bench", "--list"], in: URL(fileURLWithPath: folder), environment: ["CROSSRES_THREADS": value])
            #expect(result.status == 2 && result.combined.contains("crossres bench: CROSSRES_THREADS='\(value)' is not a thread count: give a whole number from 1 to"),
                    "\(result.combined)")
        }
        for value in ["2", ""] {  // (empty: unset, as launch scripts leave it)
            #expect(try Subprocess.run(CrossResBinary.url!.path, ["bench", "--list"], in: URL(fileURLWithPath: folder), environment: ["CROSSRES_THREADS": value]).status == 0, "'\(value)'")
        }
    }

    /// `pack` of an image folder given with a trailing slash, as its help's example does.
    @Test func packsAnImageFolder() throws {
        let folder = temporaryFolder()
        defer { removeFolder(folder) }
        for identity in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: folder + "/faces/" + identity, withIntermediateDirectories: true)
            for image in ["1.pgm", "2.pgm"] {
                _ = FileManager.default.createFile(atPath: folder + "/faces/\(identity)/\(image)", contents: Data("P5\n2 2\n255\n".utf8 + [0, 64, 128, 255]))
            }
        }
        let killed = "/.faces.rec.\(UUID().uuidString).tmp"
        _ = FileManager.default.createFile(atPath: folder + killed, contents: Data(count: 100))  // (an interrupted pack's, long ago)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: folder + killed)
        let (status, output) = try CrossResBinary.run(["pack", "--images", "faces/", "--output", "faces.rec"], in: folder)
        #expect(status == 0 && output.contains("\(killed) (0.0 MB, hidden), left by an interrupted pack of the same output"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: folder + "/faces.rec") && FileManager.default.fileExists(atPath: folder + "/faces.idx"))
        #expect(RecordIOWriter.leftovers(of: URL(fileURLWithPath: folder + "/faces.rec")).isEmpty)
    }
}
