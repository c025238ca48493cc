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
    /// stays in place, locked, until the folder is created, and is untouched by a set-up that fails.
    @Test func anEarlierOutputStaysInPlaceThroughTheSetUp() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder(creating: folder, overwrite: false).write(Data("old".utf8), to: "report.md")
        var warnings: [String] = []
        #expect(throws: Failed.self) {
            try RunFolder.DeferredCreation(folder, overwrite: true).run(warn: { warnings.append($0) }) { throw Failed() }
        }
        #expect(try warnings.isEmpty && FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
        #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("old".utf8))

        let creation = try RunFolder.DeferredCreation(folder + "/.", overwrite: true)
        let created = try creation.run(warn: { warnings.append($0) }) {
            #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("old".utf8), "in place during the set-up")
            #expect(throws: TrainingError.self, "locked during the set-up") { try RunFolder(existing: folder) }
            let run = try creation.create()
            try run.write(Data("new".utf8), to: "report.md")
            #expect(throws: TrainingError.self, "held while the run writes it") { try RunFolder.setAside(folder, overwrite: true) }
            return run.path
        }
        #expect(try created == folder && warnings.isEmpty && FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
        #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("new".utf8))
    }

    /// A folder made at the output during a `--force` run's set-up (by another run, finished) is
    /// not what the run was asked to replace: it is left as it is, and the run refused.
    @Test func aFolderMadeDuringTheSetUpIsNeverReplaced() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        let creation = try RunFolder.DeferredCreation(folder, overwrite: true)
        let refusal = try #require(throws: TrainingError.self) {
            try creation.run(warn: { _ in }) {
                try RunFolder(creating: folder, overwrite: false).write(Data("other".utf8), to: "report.md")  // (another run, finished)
                _ = try creation.create()
            }
        }
        #expect("\(refusal)" == "invalid configuration: \(folder) was created during this run's set-up (by another run?); it is left as it is: run again with --force to replace it")
        #expect(FileManager.default.contents(atPath: folder + "/report.md") == Data("other".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == ["run"])
    }

    /// A training run that fails before its first checkpoint has nothing worth keeping (it is
    /// started again, not resumed): the earlier output it replaced is put back, its settings and
    /// metrics removed, and a warning says so. One with a checkpoint keeps both.
    @Test func aTrainingRunFailingBeforeItsFirstCheckpointPutsTheEarlierOutputBack() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        try RunFolder(creating: folder, overwrite: false).write(Data("old".utf8), to: "report.md")
        var warnings: [String] = []
        for checkpoint in [false, true] {
            let creation = try RunFolder.DeferredCreation(folder, overwrite: true, worthKeeping: TrainingRunFolder.holdsCheckpoint)
            #expect(throws: Failed.self) {
                try creation.run(warn: { warnings.append($0) }) {
                    let run = try creation.create()
                    try run.write(Data("{}".utf8), to: TrainingRunFolder.settingsName)
                    if checkpoint { try run.write(Data(), to: TrainingRunFolder.checkpointName) }
                    throw Failed()
                }
            }
        }
        let aside = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch).first { $0 != "run" })
        #expect(warnings == ["the run replacing \(folder) failed before writing anything worth keeping; what it wrote is removed, and \(folder) is the earlier output again",
                             "the run replacing \(folder) failed, and what is there now is kept; the earlier output is kept at \(scratch)/\(aside)"])
        #expect(FileManager.default.contents(atPath: scratch + "/" + aside + "/report.md") == Data("old".utf8))
        #expect(FileManager.default.fileExists(atPath: folder + "/" + TrainingRunFolder.checkpointName))
    }

    /// A resumed training run holds its folder's lock from its start, through its set-up: a
    /// `--force` meanwhile cannot swap another folder in under it.
    @Test func aResumeHoldsTheLockFromItsStart() throws {
        let scratch = temporaryFolder()
        defer { removeFolder(scratch) }
        let folder = scratch + "/run"
        _ = try RunFolder(creating: folder, overwrite: false)
        try FileManager.default.createDirectory(atPath: scratch + "/.run.replaced-1", withIntermediateDirectories: false)
        var warnings: [String] = []
        let held = try TrainingRunFolder.run(into: folder, overwrite: false, resume: true, keeping: [], parallelism: nil, warn: { warnings.append($0) }) { claim in
            #expect(throws: TrainingError.self) { try RunFolder.setAside(folder, overwrite: true) }
            #expect(throws: TrainingError.self) { try RunFolder.checkNotBeingWritten(folder) }
            guard case .resumed(let run)? = claim else { return false }
            return run.path == folder
        }
        #expect(held)
        #expect(warnings.count == 1 && warnings[0].hasPrefix("an interrupted --force run of \(folder) left its earlier output at \(scratch)/.run.replaced-1"), "a resume names a leftover too: \(warnings)")
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
