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
            #expect("\(resumed)" == "invalid configuration: \(folder) is being written by a running CrossRes run; resume it once that run has ended")
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
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/flock"), "needs util-linux's flock to hold a lock from another process"))
    func anotherProcessesLockIsHonouredAndReleasedWhenItDies() throws {
        let tool = "/usr/bin/flock"
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
        #expect("\(raced)" == "invalid configuration: cannot create output folder \(scratch)/raced: it exists (made since it was checked, by another run or by you, or a link to nowhere); choose another output")
        _ = FileManager.default.createFile(atPath: scratch + "/raced/" + RunFolder.markerName, contents: Data())
        let marker = try #require(throws: TrainingError.self) { try RunFolderLock.take(scratch + "/raced", marker: .createExclusively, refusing: "") }
        #expect("\(marker)".contains("was given a marker by another run at the same moment"))

        for name in ["dot/.", "slash/", "both/./", "deep/er/."] {
            _ = try RunFolder(creating: scratch + "/" + name, overwrite: false)
            let created = scratch + "/" + name.split(separator: "/").joined(separator: "/").replacingOccurrences(of: "/.", with: "")
            #expect(FileManager.default.fileExists(atPath: created + "/" + RunFolder.markerName), "\(name)")
        }
        let parent = try #require(throws: TrainingError.self) { try RunFolder(creating: scratch + "/missing/..", overwrite: false) }
        #expect("\(parent)" == "invalid configuration: cannot create output folder \(scratch)/missing/..: name the new folder itself, not `.` or `..`")
        #expect(!FileManager.default.fileExists(atPath: scratch + "/missing"))
        let blank = try #require(throws: TrainingError.self) { try RunFolder(creating: scratch + "/  ", overwrite: false) }
        #expect("\(blank)" == "invalid configuration: cannot create output folder '\(scratch)/  ': its name is blank")
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

    /// A training run's set-up (data, models, caches) comes before its folder: an earlier output
    /// stays in place until the folder is created, and is untouched by a set-up that fails.
    @Test func anEarlierOutputStaysInPlaceThroughTheSetUp() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder(creating: folder, overwrite: false).write(Data("old".utf8), to: "report.md")
        var warnings: [String] = []
        #expect(throws: Failed.self) {
            try RunFolder.creatingAfterSetUp(folder, overwrite: true, warn: { warnings.append($0) }) { _ in throw Failed() }
        }
        #expect(try warnings.isEmpty && FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
        #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("old".utf8))

        let created = try RunFolder.creatingAfterSetUp(folder + "/.", overwrite: true, warn: { warnings.append($0) }) { creation in
            #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("old".utf8), "in place during the set-up")
            let run = try creation.create()
            try run.write(Data("new".utf8), to: "report.md")
            #expect(throws: TrainingError.self, "held while the run writes it") { try RunFolder.setAside(folder, overwrite: true) }
            return run.path
        }
        #expect(try created == folder && warnings.isEmpty && FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
        #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("new".utf8))
    }

    /// A resumed training run holds its folder's lock from its start, through its set-up: a
    /// `--force` meanwhile cannot swap another folder in under it.
    @Test func aResumeHoldsTheLockFromItsStart() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        let held = try TrainingRunFolder.run(into: folder, overwrite: false, resume: true, keeping: [], parallelism: nil, warn: { _ in }) { claim in
            #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
            #expect(throws: TrainingError.self) { try RunFolder.checkNotBeingWritten(folder) }
            guard case .resumed(let run)? = claim else { return false }
            return run.path == folder
        }
        #expect(held)
        try RunFolder.checkNotBeingWritten(folder)
    }

    /// Checks take a shared lock: two at once never refuse each other (every process of a
    /// data-parallel resume checks the folder at start). A lock found taken is tried again for a
    /// moment before it counts as a run's.
    @Test func checksDoNotCollideAndABriefHoldIsWaitedFor() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        let other = open(folder + "/" + RunFolder.markerName, O_RDONLY)
        defer { close(other) }
        #expect(flock(other, LOCK_SH) == 0)
        try RunFolder.checkNotBeingWritten(folder)  // (a check during another check)
        #expect(throws: TrainingError.self) { try RunFolder(existing: folder) }
        #expect(flock(other, LOCK_EX) == 0)
        let release = Thread { usleep(50_000); flock(other, LOCK_UN) }
        release.start()
        _ = try RunFolder(existing: folder)  // (taken once the 50 ms hold ends)
    }

    /// `--force` names what it will not replace: a link (replacing would remove the link, not the
    /// folder it names), a file; a missing folder to resume names an interrupted replacement's leftover.
    @Test func linksFilesAndLeftoversAreNamed() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        try FileManager.default.createSymbolicLink(atPath: scratch + "/latest", withDestinationPath: folder)
        let link = try #require(throws: TrainingError.self) { try RunFolder.checkCreatable(scratch + "/latest", overwrite: true) }
        #expect("\(link)" == "invalid configuration: \(scratch)/latest is a link (to \(folder)); --force replaces folders, not links: give the folder itself as the output, or choose another")
        _ = FileManager.default.createFile(atPath: scratch + "/file", contents: Data())
        for overwrite in [false, true] {
            let file = try #require(throws: TrainingError.self) { try RunFolder.checkCreatable(scratch + "/file", overwrite: overwrite) }
            #expect("\(file)".contains("exists and is not a folder; choose another output"))
        }
        try FileManager.default.moveItem(atPath: folder, toPath: scratch + "/.run.replaced-1")
        let missing = try #require(throws: TrainingError.self) { try RunFolder.checkNotBeingWritten(folder) }
        #expect("\(missing)" == "invalid configuration: \(folder): no such run folder; an interrupted --force run left the earlier output at \(scratch)/.run.replaced-1 (hidden: the name starts with a dot): move it back to \(folder) to use it")
        var warnings: [String] = []
        try RunFolder.creating(folder, overwrite: false, warn: { warnings.append($0) }) { _ in }
        #expect(warnings == ["an interrupted --force run of \(folder) left its earlier output at \(scratch)/.run.replaced-1 (hidden: the name starts with a dot); remove it, or move it back, yourself"])
    }
}
