import Foundation

/// A value behind a lock, for state that several threads reach.
///
/// On Linux, `Synchronization.Mutex` locks with futex calls that ThreadSanitizer does not see:
/// two kernels taking buffers from the pool at once, in the same `parallelFor` region, were
/// reported as a race although the mutex ordered them. This lock is a `pthread_mutex_t`
/// (`NSLock`), which ThreadSanitizer intercepts, so `scripts/sanitize.sh thread` checks the code
/// around the lock instead of flagging the lock itself.
package final class Locked<Value>: @unchecked Sendable {
    // `value` is only read or written while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
