import Foundation
import Datasets

/// The lock a run holds on its output folder while it writes it: an exclusive `flock(2)` on the
/// folder's marker file (``RunFolder/markerName``), opened for writing (NFS emulates `flock` with
/// `fcntl` locks, whose exclusive kind needs that). A run that would replace the folder
/// (`--force`) or resume it takes it first, and a check before a run's set-up tries it with a
/// shared lock (``check(_:refusing:)``: checks never refuse each other); either refuses while
/// another process (or another run in this process) holds it. The system releases it when the
/// holding process ends, however it ends (a killed run's folder can be resumed at once). The lock
/// is held as long as this object lives. A lock found taken is tried again for a moment (a check
/// holds one for microseconds). On a file system without `flock` the folder is not guarded.
/// (NFS's emulation is per process, not per open file: a check from the writing process itself
/// would succeed there, and closing it would drop the writer's lock — CrossRes never checks its
/// own folder.) The marker must be writable to take the lock (a folder copied read-only cannot be
/// replaced or resumed until it is made writable).
final class RunFolderLock: Sendable {
    private let descriptor: Int32

    /// How ``take(_:marker:refusing:)`` treats the marker file.
    enum Marker {
        /// The folder was just created by this process: the marker must not exist yet (one that
        /// does was made by another process that created the same folder at the same moment).
        case createExclusively
        /// A run folder reopened to be written (a resume): the marker is created if missing (a
        /// folder written before markers existed).
        case createIfMissing
        /// An existing folder to be replaced: without a marker there is no lock to take.
        case existing
    }

    /// What trying the lock found.
    enum Attempt {
        /// Held by the caller now (`nil`: no marker to lock).
        case held(RunFolderLock?)
        /// Held by another run.
        case busy
    }

    /// The text of a new marker file.
    static let markerText = "A folder CrossRes wrote; `--force` may replace it.\n"

    /// How long a lock found taken is tried again before it counts as held by a run.
    static let patience = 0.25

    private init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    /// Takes the exclusive lock of `folder`'s marker (`nil`: no marker, with ``Marker/existing``).
    /// Throws when a run holds it, with `refusing` (what to do instead: `resume it once that run
    /// has ended`), and when the marker cannot be opened or created.
    static func take(_ folder: String, marker: Marker, refusing: String) throws -> RunFolderLock? {
        switch try attempt(folder, marker: marker) {
        case .held(let lock): return lock
        case .busy: throw busy(folder, refusing: refusing)
        }
    }

    /// Throws as ``take(_:marker:refusing:)`` does when a run holds the lock of `folder`'s marker,
    /// trying it with a shared lock, released at once (no marker: nothing to check).
    static func check(_ folder: String, refusing: String) throws {
        let path = markerPath(folder)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return }
            throw TrainingError.invalidConfiguration("cannot open \(path), the marker of the output folder: \(String(cString: strerror(errno)))")
        }
        if case .busy = lock(RunFolderLock(descriptor: descriptor), LOCK_SH) { throw busy(folder, refusing: refusing) }
    }

    /// Tries the exclusive lock of `folder`'s marker; throws only when the marker cannot be
    /// opened or created.
    static func attempt(_ folder: String, marker: Marker) throws -> Attempt {
        let path = markerPath(folder)
        var descriptor: Int32
        switch marker {
        case .createExclusively:
            descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor < 0 && errno == EEXIST {
                throw TrainingError.invalidConfiguration("\(folder) was given a marker by another run at the same moment; choose another output")
            }
        case .createIfMissing:
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        case .existing:
            descriptor = open(path, O_RDWR | O_CLOEXEC)
            if descriptor < 0 && errno == ENOENT { return .held(nil) }
        }
        guard descriptor >= 0 else {
            throw TrainingError.invalidConfiguration("cannot open \(path), the marker of the output folder: \(String(cString: strerror(errno)))")
        }
        let attempt = lock(RunFolderLock(descriptor: descriptor), LOCK_EX)
        var status = stat()
        if case .held = attempt, marker != .existing, fstat(descriptor, &status) == 0, status.st_size == 0 {
            _ = markerText.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        }
        return attempt
    }

    /// `lock` with `flock(operation | LOCK_NB)`, tried again for ``patience`` seconds while taken
    /// (a file system without `flock`: held, unguarded).
    private static func lock(_ lock: RunFolderLock, _ operation: Int32) -> Attempt {
        let deadline = Date().addingTimeInterval(patience)
        while flock(lock.descriptor, operation | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { return .held(lock) }
            guard Date() < deadline else { return .busy }
            usleep(5_000)
        }
        return .held(lock)
    }

    private static func markerPath(_ folder: String) -> String { (folder as NSString).appendingPathComponent(RunFolder.markerName) }

    private static func busy(_ folder: String, refusing: String) -> TrainingError {
        TrainingError.invalidConfiguration("\(folder) is being written by a running CrossRes run; \(refusing)")
    }
}
