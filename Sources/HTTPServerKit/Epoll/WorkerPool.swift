@preconcurrency import Glibc
import Dispatch
import SocketCore
import Synchronization

/// The threads that run handlers in the epoll engine: a queue of connections whose request
/// has arrived, and threads that take one, serve it with blocking calls, and take the next.
///
/// The pool starts with two threads per core and adds one whenever a connection is queued
/// while no thread is free (a handler blocked on a slow reader must not delay the others), up
/// to `maximum`; a thread idle for 10 seconds leaves while more than the minimum remain.
final class WorkerPool: Sendable {
    private let queue = Mutex(Queue())
    private let queued = DispatchSemaphore(value: 0)
    private let threads = Atomic<Int>(0)
    private let idle = Atomic<Int>(0)
    private let minimum: Int
    private let maximum: Int
    private let serve: @Sendable (Connection) -> Void

    /// `serve` runs on a worker thread for each connection submitted.
    init(maximum: Int, serve: @escaping @Sendable (Connection) -> Void) {
        minimum = max(2, 2 * sysconfProcessors())
        self.maximum = max(minimum, maximum)
        self.serve = serve
        for _ in 0..<minimum { startThread() }
    }

    /// Queues a connection whose request is ready; starts a thread if none is free for it.
    func submit(_ connection: Connection) {
        let waiting = queue.withLock { queue in
            queue.append(connection)
            return queue.count
        }
        queued.signal()
        if waiting > idle.load(ordering: .relaxed) && threads.load(ordering: .relaxed) < maximum {
            startThread()
        }
    }

    private func startThread() {
        threads.add(1, ordering: .relaxed)
        do {
            try Threads.detach(stackSize: 512 * 1024) { [self] in work() }
        } catch {
            threads.subtract(1, ordering: .relaxed)
            // The queued connection is served when a running thread is free.
            Console.error("http-server: cannot start a worker thread: \(error)")
        }
    }

    private func work() {
        while true {
            idle.add(1, ordering: .relaxed)
            let result = queued.wait(timeout: .now() + .seconds(10))
            idle.subtract(1, ordering: .relaxed)
            if result == .timedOut {
                if threads.load(ordering: .relaxed) > minimum {
                    threads.subtract(1, ordering: .relaxed)
                    return
                }
                continue
            }
            if let connection = queue.withLock({ $0.removeFirst() }) { serve(connection) }
        }
    }

    /// A first-in, first-out queue on an array (the standard library has no deque).
    private struct Queue: ~Copyable {
        private var items: [Connection?] = []
        private var head = 0

        var count: Int { items.count - head }

        mutating func append(_ connection: Connection) { items.append(connection) }

        mutating func removeFirst() -> Connection? {
            guard head < items.count else { return nil }
            let first = items[head]
            items[head] = nil
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return first
        }
    }
}

private func sysconfProcessors() -> Int {
    Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
}
