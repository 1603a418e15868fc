@preconcurrency import Glibc

/// A value guarded by a lock, with a condition variable to sleep on until it changes: what
/// `Synchronization.Mutex` is, plus `wait`. Threads that read a child's output wait on one for
/// "a line arrived" or "it exited", with a deadline.
///
/// pthread_mutex(3) and pthread_cond(3) with CLOCK_MONOTONIC, so a deadline is not moved by a
/// change of the wall clock. The value is only touched with the mutex held, which is what makes
/// sharing it between threads safe (hence the one `@unchecked Sendable`: the compiler cannot see
/// a pthread mutex).
public final class ConditionLock<State>: @unchecked Sendable {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` with the lock held.
    public func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Changes the state and wakes every waiter, which then looks again.
    public func update<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Sleeps until `done` returns a value for the state, or `seconds` pass (then `done` is asked
    /// one last time). `done` runs with the lock held.
    public func wait<R>(seconds: Double, until done: (State) -> R?) -> R? {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let bounded = min(max(seconds, 0), 86_400 * 365)
        let whole = bounded.rounded(.down)
        deadline.tv_sec += Int(whole)
        deadline.tv_nsec += Int((bounded - whole) * 1e9)
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let result = done(state) { return result }
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { return done(state) }
        }
    }
}
