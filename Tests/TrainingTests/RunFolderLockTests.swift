import Foundation
import Testing
import CrossRes
@testable import Training

/// A run's output folder is locked while the run writes it (``RunFolderLock``): `--force` and a
/// resume by another run are refused until the writer has ended, in this process or another.
@Suite struct RunFolderLockTests {
    struct Failed: Error {}

    @Test func aFolderBeingWrittenIsNeitherReplacedNorResumed() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder.creating(folder, overwrite: false) { run in
            try run.write(Data("running".utf8), to: "metrics.jsonl")
            let forced = try #require(throws: TrainingError.self) { try RunFolder.checkCreatable(folder, overwrite: true) }
            #expect("\(forced)" == "invalid configuration: \(folder) is being written by a running CrossRes run; replace it with --force once that run has ended, or choose another output")
            #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
            #expect(throws: TrainingError.self) { try RunFolder(creating: folder, overwrite: true) }
            let resumed = try #require(throws: TrainingError.self) { try RunFolder(existing: folder) }
            #expect("\(resumed)" == "invalid configuration: \(folder) is being written by a running CrossRes run; resume it once that run has ended, or choose another output")
            #expect(throws: TrainingError.self) { try RunFolder.checkNotBeingWritten(folder) }
        }
        #expect(FileManager.default.contents(atPath: folder + "/metrics.jsonl") == Data("running".utf8), "refusals touch nothing")

        // Ended: it may be resumed; while resumed, it is not replaced; then it is.
        do {
            let resumed = try RunFolder(existing: folder)
            #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
            #expect(resumed.path == folder)
        }
        try RunFolder.checkNotBeingWritten(folder)
        _ = try RunFolder(creating: folder, overwrite: true)
        #expect(!FileManager.default.fileExists(atPath: folder + "/metrics.jsonl"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
    }

    /// A lock held by another process (util-linux's `flock`) refuses as this process's does, and
    /// is released when that process is killed.
    @Test func anotherProcessesLockIsHonouredAndReleasedWhenItDies() throws {
        let tool = "/usr/bin/flock"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) (util-linux) is needed to hold a lock from another process")
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        let holder = Process()
        // (one process holds it: the shell opens the marker, locks it, then becomes `sleep`)
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9<\"$1\" && \(tool) --exclusive 9 && exec sleep 60", "sh", folder + "/" + RunFolder.markerName]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        var waited = 0.0
        while (try? RunFolder.checkNotBeingWritten(folder)) != nil && waited < 10 { Thread.sleep(forTimeInterval: 0.02); waited += 0.02 }
        #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
        #expect(throws: TrainingError.self) { try RunFolder(existing: folder) }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        _ = try RunFolder(existing: folder)
        _ = try RunFolder(creating: folder, overwrite: true)
    }

    /// A run that fails while another run has started writing its output (the refusal of a lock
    /// it could not take) keeps the earlier output aside instead of swapping it back.
    @Test func aFailedReplacementLeavesAnotherWritersFolderAlone() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder(creating: folder, overwrite: false).write(Data("old".utf8), to: "report.md")
        let replacement = try #require(try RunFolder.setAside(folder, overwrite: true))
        var warnings: [String] = [], other: RunFolder?
        #expect(throws: Failed.self) {
            try replacement.run(warn: { warnings.append($0) }) {
                other = try RunFolder(creating: folder, overwrite: false)  // (kept beyond the failed run, as another writer would)
                throw Failed()
            }
        }
        #expect(warnings == ["the run replacing \(folder) failed, and another run is writing \(folder) now; the earlier output is kept at \(replacement.aside)"])
        #expect(other?.path == folder && FileManager.default.fileExists(atPath: folder + "/" + RunFolder.markerName))
        #expect(FileManager.default.contents(atPath: replacement.aside + "/report.md") == Data("old".utf8))
    }

    /// Creation is exclusive (a folder or marker another run made at the same moment is an error),
    /// and names ending in `/` or `/.` create the folder they name.
    @Test func creationIsExclusiveAndNamesAreNormalised() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        try FileManager.default.createDirectory(atPath: scratch + "/raced", withIntermediateDirectories: false)
        let raced = try #require(throws: TrainingError.self) { try RunFolder.createFresh(scratch + "/raced") }
        #expect("\(raced)" == "invalid configuration: cannot create output folder \(scratch)/raced: another run created it at the same moment; choose another output")
        _ = FileManager.default.createFile(atPath: scratch + "/raced/" + RunFolder.markerName, contents: Data())
        let marker = try #require(throws: TrainingError.self) { try RunFolderLock.take(scratch + "/raced", marker: .createExclusively, refusing: "") }
        #expect("\(marker)".contains("was created by another run at the same moment"))

        for name in ["dot/.", "slash/", "both/./", "deep/er/."] {
            _ = try RunFolder(creating: scratch + "/" + name, overwrite: false)
            let created = scratch + "/" + name.split(separator: "/").joined(separator: "/").replacingOccurrences(of: "/.", with: "")
            #expect(FileManager.default.fileExists(atPath: created + "/" + RunFolder.markerName), "\(name)")
        }
        let parent = try #require(throws: TrainingError.self) { try RunFolder(creating: scratch + "/missing/..", overwrite: false) }
        #expect("\(parent)" == "invalid configuration: cannot create output folder \(scratch)/missing/..: name the new folder itself, not `.` or `..`")
        #expect(!FileManager.default.fileExists(atPath: scratch + "/missing"))
    }

    /// A run folder written before markers existed gets one when it is resumed, and a new marker
    /// says what it is.
    @Test func aResumedFolderWithoutMarkerGetsOne() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/old"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        _ = try RunFolder(existing: folder)
        #expect(FileManager.default.contents(atPath: folder + "/" + RunFolder.markerName) == Data(RunFolderLock.markerText.utf8))
    }
}
