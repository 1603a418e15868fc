@preconcurrency import Glibc

/// Starts a real operating-system thread (pthread_create(3)), detached.
///
/// Blocking calls such as accept() and recv() need real threads: Swift's concurrency pool has one
/// thread per core, and two tasks blocked in recv() on a 2-core machine would stall every other
/// task. This is what Python's `threading.Thread(target=...).start()` does.
public enum Threads {
    private final class Work {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread with a `stackSize`-byte stack.
    /// Throws when the system refuses another thread (EAGAIN: too many threads).
    public static func detach(stackSize: Int = 256 * 1024, _ body: @escaping @Sendable () -> Void) throws {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(Work(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            let work = Unmanaged<Work>.fromOpaque(context!).takeRetainedValue()
            work.body()
            return nil
        }, context)
        if status != 0 {
            Unmanaged<Work>.fromOpaque(context).release()
            throw SocketError(call: "pthread_create", errno: Errno(rawValue: status))
        }
    }
}
