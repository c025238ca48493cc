import Foundation
import Datasets

/// The lock a run holds on its output folder while it writes it: an exclusive `flock(2)` on the
/// folder's marker file (``RunFolder/markerName``). A run that would replace the folder
/// (`--force`) or resume it takes or tries the lock first, and refuses while another process
/// (or another run in this process) holds it; the system releases it when the holding process
/// ends, however it ends (a killed run's folder can be resumed at once). The lock is held as long
/// as this object lives. On a file system without `flock` the folder is not guarded, as before
/// the lock existed.
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
        /// An existing folder to be replaced or checked: without a marker there is no lock to take.
        case existing
    }

    /// The text of a new marker file.
    static let markerText = "A folder CrossRes wrote; `--force` may replace it.\n"

    private init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    /// Takes the lock of `folder`'s marker without waiting (`nil`: no marker, with
    /// ``Marker/existing``). Throws when another holder has it, naming `refusing` (what is
    /// refused: `replace it with --force`), and when the marker cannot be opened or created.
    static func take(_ folder: String, marker: Marker, refusing: String) throws -> RunFolderLock? {
        let path = (folder as NSString).appendingPathComponent(RunFolder.markerName)
        var descriptor: Int32
        switch marker {
        case .createExclusively:
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor < 0 && errno == EEXIST {
                throw TrainingError.invalidConfiguration("\(folder) was created by another run at the same moment; choose another output")
            }
        case .createIfMissing:
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 && errno == ENOENT { descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644) }
        case .existing:
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 && errno == ENOENT { return nil }
        }
        guard descriptor >= 0 else {
            throw TrainingError.invalidConfiguration("cannot open \(path), the marker of the output folder: \(String(cString: strerror(errno)))")
        }
        let lock = RunFolderLock(descriptor: descriptor)
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK {
                throw TrainingError.invalidConfiguration(
                    "\(folder) is being written by a running CrossRes run; \(refusing) once that run has ended, or choose another output")
            }
            return lock  // (a file system without flock: unguarded)
        }
        var status = stat()
        if marker != .existing && fstat(descriptor, &status) == 0 && status.st_size == 0 {
            _ = markerText.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        }
        return lock
    }
}
