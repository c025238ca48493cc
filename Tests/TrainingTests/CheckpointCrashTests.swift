import Foundation
import Testing
import CrossRes

/// A real training process (`crossres train-teacher`, a checkpoint every step) killed with
/// SIGKILL while it writes a checkpoint: the previous checkpoint still loads and verifies, and
/// `--resume` ends bit-identical to a run never interrupted.
@Suite(.enabled(if: CrossResBinary.url != nil, "the crossres executable was not found next to the test bundle; build it to run these"))
struct CheckpointCrashTests {
    static let steps = 10
    static let arguments = ["train-teacher", "--data", "synthetic:identities=6,images=4,size=16", "--model", "smallfacenet",
                            "--input-size", "16", "--embedding-size", "8", "--steps", String(steps), "--batch", "8",
                            "--checkpoint-every", "1", "--workers", "1"]

    /// Temporary files of a checkpoint save in progress in `run`.
    static func savesInProgress(_ run: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: run)) ?? []).filter { $0.hasPrefix(".checkpoint.safetensors.") && $0.hasSuffix(".tmp") }
    }

    /// Starts a run in `folder/run` and SIGKILLs it as soon as a checkpoint exists and the next
    /// save has begun. Returns whether the kill landed mid-save (its temporary file remained).
    static func killDuringSave(in folder: String) throws -> Bool {
        let process = Process()
        process.executableURL = CrossResBinary.url!
        process.arguments = arguments + ["--output", "run"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let run = folder + "/run", deadline = Date().addingTimeInterval(120)
        var killed = false
        while process.isRunning && Date() < deadline {
            if FileManager.default.fileExists(atPath: run + "/checkpoint.safetensors") && !savesInProgress(run).isEmpty {
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
            usleep(200)
        }
        if !killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                "the run ended by itself (status \(process.terminationStatus)) before a save could be interrupted")
        return killed && !savesInProgress(run).isEmpty
    }

    @Test func sigkillDuringSaveKeepsTheLastCheckpointAndResumeIsBitIdentical() throws {
        let straight = temporaryFolder()
        defer { removeFolder(straight) }
        let reference = try CrossResBinary.run(Self.arguments + ["--output", "run"], in: straight)
        try #require(reference.status == 0, "\(reference.output)")

        // The moment of the kill is a race; retry until one lands inside a save.
        var folder = temporaryFolder(), attempts = 1
        defer { removeFolder(folder) }
        while try !Self.killDuringSave(in: folder) && attempts < 5 {
            removeFolder(folder)
            folder = temporaryFolder()
            attempts += 1
        }
        let run = folder + "/run"
        #expect(!Self.savesInProgress(run).isEmpty, "no kill in \(attempts) attempts landed inside a checkpoint save")

        // The checkpoint before the interrupted save is intact and verified.
        let kept = try Checkpoint(contentsOf: run + "/checkpoint.safetensors")
        #expect((1..<Self.steps).contains(kept.step))

        let resumed = try CrossResBinary.run(["train-teacher", "--output", "run", "--resume"], in: folder)
        try #require(resumed.status == 0, "\(resumed.output)")
        #expect(Self.savesInProgress(run).isEmpty, "the resumed run removes the killed save's temporary file")
        let a = try Checkpoint(contentsOf: straight + "/run/checkpoint.safetensors")
        let b = try Checkpoint(contentsOf: run + "/checkpoint.safetensors")
        #expect(a.step == Self.steps && b.step == Self.steps)
        #expect(Set(a.tensors.keys) == Set(b.tensors.keys))
        for (name, tensor) in a.tensors { #expect(b.tensors[name]?.scalars == tensor.scalars, "\(name) differs after resume") }
        // Each step is logged once.
        let log = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let logged = log.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["step"] as? Int }
        #expect(logged == Array(1...Self.steps))
    }
}
