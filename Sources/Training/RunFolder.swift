import Foundation
import Datasets

/// A run's output folder: created fresh, never silently overwritten.
///
/// Every folder created here holds a marker file (``markerName``). Replacing an existing folder
/// (`overwrite`, the command line's `--force`) is refused unless the folder is empty or has that
/// marker (CrossRes made it), unless it holds none of the run's inputs (`keeping`: data,
/// teacher, weights) and not the current directory, and unless no other CrossRes output lies
/// below it (``nestedOutput(in:limit:)``): `--force` replaces an earlier output, never the user's
/// data or another result. An output inside a data input folder is refused too
/// (``checkOutside(_:inputs:)``, ``RunInputs``): written into an image folder, it would become
/// part of the data the next run reads; inside a model input (a run folder read as weights) it is
/// fine.
///
/// A `RunFolder` made by ``init(creating:overwrite:keeping:warn:)`` or ``init(existing:)`` holds
/// the folder's lock while it (or a copy) lives (``RunFolderLock``): `--force` or a resume of the
/// folder by another run is refused until the writing run has ended. Paths ending in `/` or `/.`
/// name the folder before them.
public struct RunFolder {
    public let path: String
    /// The lock on the folder's marker (`nil`: a folder without a marker, or a file system
    /// without locks).
    private let lock: RunFolderLock?

    /// The marker file of a folder CrossRes created.
    public static let markerName = ".crossres-output"

    /// Creates `path` (and parents). An existing folder is an error unless `overwrite` and
    /// ``checkCreatable(_:overwrite:keeping:)`` allows replacing it; it is replaced as
    /// ``replacing(_:overwrite:keeping:warn:_:)`` does, at once (a run that writes its folder
    /// over a while keeps the earlier one until it ends by calling that around all its work).
    public init(creating path: String, overwrite: Bool, keeping inputs: RunInputs = [],
                warn: (String) -> Void = TrainingLoop.standardErrorWarning) throws {
        let path = Self.folderPath(path)
        lock = try Self.replacing(path, overwrite: overwrite, keeping: inputs, warn: warn) { try Self.createFresh(path) }
        self.path = path
    }

    /// `path` without trailing `/` and `/.` (`out/.` names `out`; `mkdir` and `rename` of `out/.`
    /// fail).
    static func folderPath(_ path: String) -> String {
        var folder = path
        while folder.count > 1 && (folder.hasSuffix("/") || folder.hasSuffix("/.")) { folder.removeLast(folder.hasSuffix("/") ? 1 : 2) }
        return folder
    }

    /// Creates the folder `path` (its parents as needed) with `mkdir(2)`, which fails when
    /// something was made there since it was checked, and its marker, locked.
    static func createFresh(_ path: String) throws -> RunFolderLock? {
        let folder = folderPath(path)
        guard folder != "." && folder != ".." && !folder.hasSuffix("/..") else {
            throw TrainingError.invalidConfiguration("cannot create output folder \(path): name the new folder itself, not `.` or `..`")
        }
        guard !(folder as NSString).lastPathComponent.allSatisfy(\.isWhitespace) else {
            throw TrainingError.invalidConfiguration("cannot create output folder '\(path)': its name is blank")
        }
        let parent = parentFolder(folder)
        do {
            if !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) {  // (a file there: mkdir names it)
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            }
        } catch {
            throw TrainingError.invalidConfiguration("cannot create output folder \(path): \(fileErrorReason(error))")
        }
        guard mkdir(folder, 0o777) == 0 else {
            let reason = errno == EEXIST
                ? "it exists (made since it was checked, by another run or by you, or a link to nowhere); choose another output"
                : String(cString: strerror(errno))
            throw TrainingError.invalidConfiguration("cannot create output folder \(path): \(reason)")
        }
        return try RunFolderLock.take(folder, marker: .createExclusively, refusing: replacingRefused)
    }

    /// Runs `body`, the work that creates and writes the output folder `path`, replacing an
    /// earlier output there (only with `overwrite`, and as ``checkCreatable(_:overwrite:keeping:)``
    /// allows) without losing it: ``setAside(_:overwrite:keeping:)``, then ``Replacement/run(warn:_:)``.
    public static func replacing<T>(_ path: String, overwrite: Bool, keeping inputs: RunInputs = [],
                                    warn: (String) -> Void = TrainingLoop.standardErrorWarning,
                                    _ body: () throws -> T) throws -> T {
        guard let replacement = try setAside(path, overwrite: overwrite, keeping: inputs) else { return try body() }
        return try replacement.run(warn: warn, body)
    }

    /// Creates the folder `path` and runs `body`, which writes it, replacing an earlier output
    /// there only once `body` has returned (``replacing(_:overwrite:keeping:warn:_:)``); returns
    /// what `body` returns. The folder is created after the earlier one is set aside, never over
    /// one made there meanwhile.
    public static func creating<T>(_ path: String, overwrite: Bool, keeping inputs: RunInputs = [],
                                   warn: (String) -> Void = TrainingLoop.standardErrorWarning,
                                   _ body: (RunFolder) throws -> T) throws -> T {
        warnOfLeftovers(path, warn: warn)
        return try replacing(path, overwrite: overwrite, keeping: inputs, warn: warn) {
            try body(try RunFolder(creating: path, overwrite: false, keeping: inputs, warn: warn))
        }
    }

    /// The creation of a run's folder `path`, deferred to the end of the run's set-up (data,
    /// models, caches): made before the set-up, it checks `path` as
    /// ``RunFolder/checkCreatable(_:overwrite:keeping:)`` does and holds the lock of an earlier
    /// output there (replaced only with `overwrite`), which stays in place — neither resumed nor
    /// replaced by another run — until ``create()``; so a set-up that fails or is interrupted
    /// leaves it untouched. ``run(warn:_:)`` runs the whole run and removes the earlier output once
    /// it has succeeded. A folder that appears at `path` during the set-up is never replaced.
    public final class DeferredCreation {
        public let path: String
        let inputs: RunInputs
        let worthKeeping: (String) -> Bool
        /// The earlier output the check found (its lock and identity); `nil`: nothing was there.
        private var earlier: (lock: RunFolderLock?, device: UInt64, inode: UInt64)?
        /// The earlier output set aside by ``create()``.
        private var replacement: Replacement?
        private var created = false

        /// Checks `path` and locks an earlier output there. `worthKeeping` says whether what a
        /// failed run wrote in its folder is kept (with the earlier output aside) or removed (the
        /// earlier output put back): by default anything besides the marker.
        public init(_ path: String, overwrite: Bool, keeping inputs: RunInputs = [],
                    worthKeeping: @escaping (String) -> Bool = RunFolder.holdsAnythingWritten) throws {
            self.path = folderPath(path)
            (self.inputs, self.worthKeeping) = (inputs, worthKeeping)
            guard try checkCreatable(self.path, overwrite: overwrite, keeping: inputs) else { return }
            let lock = try RunFolderLock.take(self.path, marker: .existing, refusing: replacingRefused)
            var status = stat()
            guard stat(self.path, &status) == 0 else {
                throw TrainingError.invalidConfiguration("cannot read \(self.path) to replace it: \(String(cString: strerror(errno)))")
            }
            earlier = (lock, UInt64(status.st_dev), UInt64(status.st_ino))
        }

        /// Sets the earlier output aside (a hidden sibling, ``RunFolder/setAside(_:overwrite:keeping:)``)
        /// and creates the folder, locked; once. Throws, leaving it as it is, when something else
        /// is at `path` than the check found (made, moved or replaced during the set-up).
        public func create() throws -> RunFolder {
            precondition(!created, "RunFolder.DeferredCreation: the folder \(path) is created once")
            created = true
            var status = stat()
            let present = lstat(path, &status) == 0
            if let earlier {
                guard present && UInt64(status.st_dev) == earlier.device && UInt64(status.st_ino) == earlier.inode else {
                    throw TrainingError.invalidConfiguration("\(path) was moved or replaced during this run's set-up; it is left as it is: run again")
                }
                replacement = try moveAside(path)
                self.earlier = nil  // (its lock released: nothing else knows the hidden name)
            } else if present {
                throw TrainingError.invalidConfiguration("\(path) was created during this run's set-up (by another run?); it is left as it is: run again with --force to replace it")
            }
            return try RunFolder(creating: path, overwrite: false, keeping: inputs)
        }

        /// Runs `body`, the whole run (its set-up, ``create()``, its work); then removes the
        /// earlier output, or, when `body` throws, puts it back unless the failed run wrote
        /// something worth keeping (``Replacement/run(warn:_:)``).
        public func run<T>(warn: (String) -> Void, _ body: () throws -> T) throws -> T {
            RunFolder.warnOfLeftovers(path, warn: warn)
            let value: T
            do { value = try body() } catch {
                replacement?.restore(warn: warn, worthKeeping: worthKeeping)
                throw error
            }
            replacement?.finish(warn: warn)
            return value
        }
    }

    /// Whether the folder `path` holds anything besides its marker: what a failed run wrote there,
    /// kept by ``Replacement/run(warn:_:)``.
    public static func holdsAnythingWritten(_ path: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).contains { $0 != markerName }
    }

    /// Checks `path` as ``checkCreatable(_:overwrite:keeping:)`` does and, when an earlier output
    /// is there, renames it to a hidden sibling (`.NAME.replaced-UUID`) and returns it (`nil`:
    /// nothing to replace), holding its lock meanwhile. The rename is `rename(2)`: a file system
    /// that cannot rename the folder in place (overlayfs over an image's layer, another mount) is
    /// an error, not a copy.
    public static func setAside(_ path: String, overwrite: Bool, keeping inputs: RunInputs = []) throws -> Replacement? {
        let path = folderPath(path)
        guard try checkCreatable(path, overwrite: overwrite, keeping: inputs) else { return nil }
        let held = try RunFolderLock.take(path, marker: .existing, refusing: replacingRefused)  // (no run starts writing it meanwhile)
        defer { withExtendedLifetime(held) {} }
        return try moveAside(path)
    }

    /// Renames the folder `path` to a hidden, unused sibling (``asidePath(_:)``).
    private static func moveAside(_ path: String) throws -> Replacement {
        let aside = asidePath(path)
        guard rename(path, aside) == 0 else {
            throw TrainingError.invalidConfiguration("cannot replace output folder \(path): moving it aside to \(aside) failed: \(String(cString: strerror(errno))); remove it yourself, or choose another output")
        }
        return Replacement(path: path, aside: aside)
    }

    /// What a lock held by another run refuses in ``checkCreatable(_:overwrite:keeping:)``.
    static let replacingRefused = "replace it with --force once that run has ended, or choose another output"

    /// An earlier output renamed aside for the run that replaces it (``setAside(_:overwrite:keeping:)``).
    public struct Replacement: Sendable {
        public let path: String, aside: String

        /// Runs `body`, the run that writes ``path``; then removes the earlier output, a failure to
        /// remove it being a warning naming where it is. If `body` throws, the earlier output is put
        /// back, unless `body` wrote something at ``path`` (a failed run's report, checkpoint and
        /// metrics) or another run is writing there: then both are kept and `warn` names the
        /// earlier one's place.
        public func run<T>(warn: (String) -> Void, _ body: () throws -> T) throws -> T {
            let value: T
            do { value = try body() } catch {
                restore(warn: warn, worthKeeping: RunFolder.holdsAnythingWritten)
                throw error
            }
            finish(warn: warn)
            return value
        }

        /// After the run replacing it failed: puts the earlier output back (removing what the
        /// failed run wrote unless it is `worthKeeping`), or keeps it aside as ``run(warn:_:)`` says.
        func restore(warn: (String) -> Void, worthKeeping: (String) -> Bool) {
            let manager = FileManager.default
            // (the lock, held while the failed run's empty folder is swapped back: no other run writes it then)
            let held: RunFolderLock?
            switch Result(catching: { try RunFolderLock.attempt(path, marker: .existing) }) {
            case .success(.held(let lock)): held = lock
            case .success(.busy):
                return warn("the run replacing \(path) failed, and another run is writing \(path) now; the earlier output is kept at \(aside)")
            case .failure(let error):
                return warn("the run replacing \(path) failed, and \(path) cannot be checked (\(error)); the earlier output is kept at \(aside)")
            }
            defer { withExtendedLifetime(held) {} }
            let marker = (try? manager.attributesOfItem(atPath: (path as NSString).appendingPathComponent(markerName)))?[.size] as? Int
            guard marker != 0 else {  // (a marker without its text: a run creating the folder this moment)
                return warn("the run replacing \(path) failed, and another run is creating \(path) now; the earlier output is kept at \(aside)")
            }
            if manager.fileExists(atPath: path) && RunFolder.holdsAnythingWritten(path) {
                guard !worthKeeping(path) else {
                    return warn("the run replacing \(path) failed, and what is there now is kept; the earlier output is kept at \(aside)")
                }
                warn("the run replacing \(path) failed before writing anything worth keeping; what it wrote is removed, and \(path) is the earlier output again")
            }
            if manager.fileExists(atPath: path) { try? manager.removeItem(atPath: path) }
            if rename(aside, path) != 0 { warn("could not put back the output \(path) was replacing (\(String(cString: strerror(errno)))); it is kept at \(aside)") }
        }

        /// After the run replacing it succeeded: removes the earlier output (a failure is a warning).
        func finish(warn: (String) -> Void, remove: (String) throws -> Void = { try FileManager.default.removeItem(atPath: $0) }) {
            do { try remove(aside) } catch {
                warn("replaced \(path), but could not remove the earlier output, moved to \(aside): \(fileErrorReason(error)); remove it yourself")
            }
        }
    }

    /// A hidden, unused name next to `path` (a ``folderPath(_:)``) for the folder being replaced.
    private static func asidePath(_ path: String) -> String {
        (parentFolder(path) as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).replaced-\(UUID().uuidString)")
    }

    /// The folder holding `path` (a ``folderPath(_:)``) as written: `""` for a name without a
    /// slash, `/` for one at the root. (Foundation's `deletingLastPathComponent` traps on a
    /// one-character relative name such as `x` on Linux.)
    private static func parentFolder(_ path: String) -> String {
        path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ""
    }

    /// Throws what ``init(creating:overwrite:keeping:)`` would for an existing `path`, without
    /// touching it (a run checks this before its expensive set-up); returns whether `path` exists
    /// (and may be replaced).
    @discardableResult
    public static func checkCreatable(_ path: String, overwrite: Bool, keeping inputs: RunInputs = []) throws -> Bool {
        let path = folderPath(path)
        try checkOutside(path, inputs: inputs)
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else {
            throw TrainingError.invalidConfiguration("\(path) exists and is not a folder; choose another output (CrossRes never replaces a file with a run folder)")
        }
        var status = stat()
        if lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK {
            let target = (try? manager.destinationOfSymbolicLink(atPath: path)) ?? "?"
            throw TrainingError.invalidConfiguration("\(path) is a link (to \(target)); --force replaces folders, not links: give the folder itself as the output, or choose another")
        }
        guard overwrite else { throw TrainingError.runFolderExists(path) }
        // (An input inside it once links are followed, or named through it: `out/datalink`.)
        let folder = canonical(path), named = lexical(path)
        for input in [manager.currentDirectoryPath] + inputs.all {
            for candidate in pathsNamed(by: input) where manager.fileExists(atPath: candidate) {
                if isWithin(canonical(candidate), folder) || isWithin(lexical(candidate), named) {
                    let what = input == manager.currentDirectoryPath ? "the current directory" : "the input \(input)"
                    throw TrainingError.invalidConfiguration("\(path) holds \(what); refusing to replace it with --force (choose another output)")
                }
            }
        }
        let contents: [String]
        do { contents = try manager.contentsOfDirectory(atPath: path) } catch {
            throw TrainingError.invalidConfiguration("cannot read \(path) to replace it: \(fileErrorReason(error))")
        }
        guard contents.isEmpty || contents.contains(markerName) else {
            throw TrainingError.invalidConfiguration(
                "\(path) has no \(markerName) (not a CrossRes output, or one written before the marker existed); --force replaces only CrossRes outputs: remove it yourself or choose another output")
        }
        try RunFolderLock.check(path, refusing: replacingRefused)
        if let nested = try nestedOutput(in: path) {
            let name = (nested as NSString).lastPathComponent
            let what = name.hasPrefix(".") && name.contains(".replaced-")
                ? "\(nested), an earlier output that an interrupted --force run set aside (hidden: its name starts with a dot)"
                : "the CrossRes output \(nested)"
            throw TrainingError.invalidConfiguration(
                "\(path) holds \(what), which replacing it with --force would delete; move or remove it first, or choose another output")
        }
        return true
    }

    /// The most files and folders ``nestedOutput(in:limit:)`` lists by default.
    public static let nestedOutputSearchLimit = 100_000

    /// The first folder below `folder` (not `folder` itself) holding ``markerName``: another
    /// CrossRes output, such as `runs/student/eval` in `runs/student`, nearest first. The search
    /// walks every sub-folder (an output may lie below folders without a marker:
    /// `runs/teacher/students/l2`), not through symbolic links (replacing removes a link, not its
    /// target), and not into the output found. It lists at most `limit` entries: a larger tree is
    /// not what CrossRes writes, and is an error rather than a walk of minutes.
    public static func nestedOutput(in folder: String, limit: Int = nestedOutputSearchLimit) throws -> String? {
        var queue = [folder], listed = 0, next = 0
        while next < queue.count {
            let current = queue[next]
            next += 1
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: current) } catch {
                throw TrainingError.invalidConfiguration("cannot read \(current) to check that no other CrossRes output lies in \(folder): \(fileErrorReason(error)); remove it yourself or choose another output")
            }
            if current != folder && entries.contains(markerName) { return current }
            listed += entries.count
            guard listed <= limit else {
                throw TrainingError.invalidConfiguration(
                    "\(folder) holds more than \(limit) files and folders, too many to check that no other CrossRes output lies inside (--force would delete it); remove it yourself or choose another output")
            }
            for entry in entries.sorted() {
                let path = (current as NSString).appendingPathComponent(entry)
                var status = stat()
                if lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR { queue.append(path) }
            }
        }
        return nil
    }

    /// Throws if the output `path` (a folder or a file, existing or not) is one of `inputs`, or
    /// lies inside a data input folder, symbolic links and `..` resolved: an output written into
    /// the data would be read as data by the next run (a contact sheet trained on as a face).
    /// Inside a model input (a run folder whose weights are read by name) is allowed.
    public static func checkOutside(_ path: String, inputs: RunInputs) throws {
        let manager = FileManager.default, output = canonical(path)
        for (input, isData) in inputs.data.map({ ($0, true) }) + inputs.models.map({ ($0, false) }) {
            for candidate in pathsNamed(by: input) where manager.fileExists(atPath: candidate) {
                let source = canonical(candidate)
                if output == source {
                    throw TrainingError.invalidConfiguration("\(path) is the input \(input); write the output elsewhere")
                }
                if isData && isWithin(output, source) {
                    throw TrainingError.invalidConfiguration(
                        "\(path) is inside the input folder \(input), where it would become part of what is read; write the output elsewhere")
                }
            }
        }
    }

    /// The paths an input argument may name: itself, without surrounding spaces (data arguments
    /// are trimmed), and the part after a `kind:` prefix (`yaleb:PATH`).
    static func pathsNamed(by input: String) -> [String] {
        let trimmed = input.trimmingCharacters(in: .whitespaces)
        var paths = [input, trimmed]
        if let colon = trimmed.firstIndex(of: ":") { paths.append(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)) }
        return paths.filter { !$0.isEmpty }
    }

    /// Whether the absolute path `inner` is `outer` or lies below it.
    static func isWithin(_ inner: String, _ outer: String) -> Bool {
        inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    /// `path` absolute, with `.` and `..` resolved by name, links not followed: the folders a
    /// path is named through.
    static func lexical(_ path: String) -> String {
        byName(absolute(path).split(separator: "/").map(String.init))
    }

    /// `path` absolute: after the current directory when relative.
    private static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The absolute path of `components` after `base`, `.` dropped and `..` taking the parent
    /// by name.
    private static func byName(_ components: [String], after base: [String] = []) -> String {
        var resolved = base
        for component in components where component != "." {
            if component == ".." { _ = resolved.popLast() } else { resolved.append(component) }
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// `path` absolute, with `.`, `..` and symbolic links resolved as the system does (`link/..`
    /// is the parent of the link's target, not the folder holding the link): its longest existing
    /// part by realpath(3), then the missing rest, whose `..` and `.` are resolved by name (an
    /// output to be written through a linked folder).
    public static func canonical(_ path: String) -> String {
        var existing = absolute(path).split(separator: "/", omittingEmptySubsequences: true).map(String.init), missing: [String] = []
        var resolved = "/"
        while true {
            if let real = realpath("/" + existing.joined(separator: "/"), nil) {
                resolved = String(cString: real)
                free(real)
                break
            }
            guard let last = existing.popLast() else { break }
            missing.insert(last, at: 0)
        }
        return byName(missing, after: resolved.split(separator: "/").map(String.init))
    }

    /// An existing run folder reopened to be written (a resume), its lock taken (its marker
    /// created if missing); an error naming it when absent, or when another run is writing it.
    public init(existing path: String) throws {
        let path = Self.folderPath(path)
        try Self.checkExists(path)
        lock = try RunFolderLock.take(path, marker: .createIfMissing, refusing: Self.resumingRefused)
        self.path = path
    }

    /// Throws when `path` is not an existing folder, or when another run is writing it (holds its
    /// lock): what a resume checks before its set-up (the library's trainers take the lock then,
    /// and hold it through the set-up).
    public static func checkNotBeingWritten(_ path: String) throws {
        let path = folderPath(path)
        try checkExists(path)
        try RunFolderLock.check(path, refusing: resumingRefused)
    }

    /// Throws when `path` is not an existing folder, naming an earlier output an interrupted
    /// `--force` run left aside there.
    private static func checkExists(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError.invalidConfiguration("\(path): no such run folder\(leftoverNote(path))")
        }
    }

    /// `; …` naming the earlier outputs an interrupted `--force` run set aside next to `path`
    /// (`.NAME.replaced-…`), or nothing.
    static func leftoverNote(_ path: String) -> String {
        let places = leftovers(path)
        guard !places.isEmpty else { return "" }
        return "; an interrupted --force run left the earlier output at \(places.joined(separator: ", ")) (hidden: the name starts with a dot): move it back to \(folderPath(path)) to use it"
    }

    /// Warns of the earlier outputs an interrupted `--force` run set aside next to `path`, which
    /// no run removes.
    static func warnOfLeftovers(_ path: String, warn: (String) -> Void) {
        let places = leftovers(path)
        guard !places.isEmpty else { return }
        warn("an interrupted --force run of \(folderPath(path)) left its earlier output at \(places.joined(separator: ", ")) (hidden: the name starts with a dot); remove it, or move it back, yourself")
    }

    /// The hidden siblings `.NAME.replaced-…` of `path`: earlier outputs that interrupted `--force`
    /// runs set aside.
    private static func leftovers(_ path: String) -> [String] {
        let path = folderPath(path)
        let parent = parentFolder(path), prefix = ".\((path as NSString).lastPathComponent).replaced-"
        return ((try? FileManager.default.contentsOfDirectory(atPath: parent.isEmpty ? "." : parent)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
            .map { (parent as NSString).appendingPathComponent($0) }
    }

    /// What a lock held by another run refuses in ``init(existing:)``.
    static let resumingRefused = "resume it once that run has ended"

    /// Path of `name` inside the folder.
    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `data` to `name` atomically (temporary file in the folder, then rename).
    public func write(_ data: Data, to name: String) throws {
        try data.write(to: URL(fileURLWithPath: file(name)), options: .atomic)
    }
}
