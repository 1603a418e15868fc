import CLinux
import SocketCore
import Synchronization

/// The engine for real use: every connection waits in one epoll(7) watch list, and a small
/// pool of worker threads takes them from it as they become readable.
///
///     worker   epoll_wait → a new client? accept() it and park it
///                         → a parked connection readable? recv() what arrived, without waiting
///                           → a whole request head: handler.handleReadyRequests(), park it again
///                           → part of one: park it again
///     reaper   once the oldest parked connection has waited --timeout: close it
///
/// An idle or slow client costs a descriptor and its entry in `ParkedConnections`, never a
/// thread: 10,000 clients that send nothing cannot delay the one that sends a request. The
/// handler is the same `RequestHandler` the other modes run; it never learns which server
/// runs it. Each parked socket is watched with EPOLLONESHOT, so exactly one worker gets each
/// readiness report, and the watch stays off until the connection is parked again.
///
/// Limits, as nginx sets them:
/// - the descriptor limit is raised to the hard limit at start (`worker_rlimit_nofile`);
/// - at most `maxConnections` are open; at the limit, the oldest connection with no complete
///   request (idle, or a head begun and stalled) is closed to admit a new one
///   (`ngx_drain_connections`);
/// - a request head that has begun must keep coming: stalled for `headerTimeout` (default 10 s,
///   nginx's `client_header_timeout`), the connection closes;
/// - out of descriptors (EMFILE), the listener is paused, not retried in a loop, until a
///   connection closes or 100 ms pass.
///
/// Workers: two per core to start. Handlers block (a client slow to read its response holds
/// the worker in send()), so every 50 ms the reaper looks: if sockets are ready, no worker is
/// waiting for them, and no request finished meanwhile, it starts one more. A worker idle for
/// 10 seconds leaves while more than the minimum remain.
public final class EpollHTTPServer: Sendable {
    /// The listening socket and the per-connection work, shared with the other modes.
    public let server: HTTPServer
    /// Connections open at once, counted from accept() to close().
    public let maxConnections: Int
    let epoll: Epoll
    let parked = Mutex(ParkedConnections())
    /// Connections whose handler left a `ResponseStream` open, by descriptor.
    let streams = Mutex<[Int32: EpollConnection]>([:])
    let streamsEnded = Atomic<Int>(0)
    let openConnections = Atomic<Int>(0)
    /// Monotonic ms since which the listener is paused; 0 while it accepts.
    let pausedSince = Atomic<UInt64>(0)
    let workers = Atomic<Int>(0)
    let waitingWorkers = Atomic<Int>(0)
    /// Counts handler runs that ended: the reaper's sign that workers make progress.
    let requestsFinished = Atomic<Int>(0)
    let minimumWorkers: Int
    let maximumWorkers = 512
    let timeoutMilliseconds: UInt64
    /// How long a started request head may stall (`--header-timeout`).
    let headerTimeoutMilliseconds: UInt64
    static let watchEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
    static let pauseMilliseconds: UInt64 = 100

    /// `headerTimeout`: seconds a request head that has begun may go without a byte before the
    /// connection closes; nil: the smaller of 10 s and the server's timeout.
    public init(_ server: HTTPServer, maxConnections: Int, headerTimeout: Double? = nil) throws {
        self.server = server
        self.maxConnections = maxConnections
        epoll = try Epoll()
        minimumWorkers = max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        timeoutMilliseconds = UInt64(min(server.timeout, 86_400) * 1000)
        headerTimeoutMilliseconds = UInt64(min(headerTimeout ?? min(10, server.timeout), 86_400) * 1000)
    }

    /// Starts the workers, then closes expired connections on this thread, forever (Python's
    /// `serve_forever`).
    public func serveForever() {
        do {
            try server.socket.setNonBlocking(true)   // accept() until EAGAIN, never wait in it
            try epoll.add(server.socket.descriptor, events: Self.listenerEvents, data: UInt64(server.socket.descriptor))
            for _ in 0..<minimumWorkers { try startWorker() }
        } catch {
            Console.error("http-server: cannot start the epoll engine: \(error)")
            Console.exit(1)
        }
        reapForever()
    }

    static let listenerEvents = EPOLLIN.rawValue | EPOLLONESHOT.rawValue

    func startWorker() throws {
        workers.add(1, ordering: .relaxed)
        do {
            try Threads.detach(stackSize: 512 * 1024) { [self] in work() }
        } catch {
            workers.subtract(1, ordering: .relaxed)
            throw error
        }
    }

    /// Called by the reaper every 50 ms: if sockets are ready, no worker is waiting for them,
    /// and no request finished since the last look, the workers are stuck (handlers blocked
    /// on slow clients), not merely busy: start one more.
    func addWorkerIfStuck(finishedBefore: Int) {
        guard waitingWorkers.load(ordering: .relaxed) == 0,
              requestsFinished.load(ordering: .relaxed) == finishedBefore,
              workers.load(ordering: .relaxed) < maximumWorkers,
              Syscall.isReadable(epoll.descriptor) else { return }
        do {
            try startWorker()
        } catch {
            Console.error("http-server: cannot start another worker: \(error)")
        }
    }

    /// The default `--max-connections`: the descriptor limit less a reserve for the listener,
    /// epoll, files being sent and directory listings.
    public static func defaultMaxConnections(descriptorLimit: Int) -> Int {
        max(1, descriptorLimit - min(256, descriptorLimit / 4))
    }

    /// Raises the soft descriptor limit to the hard one, as nginx's `worker_rlimit_nofile`
    /// does; returns the limit now in force.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        guard let (soft, hard) = try? Syscall.descriptorLimit() else { return 1024 }
        if hard > soft, (try? Syscall.setDescriptorLimit(soft: hard)) != nil { return hard }
        return soft
    }

    /// Monotonic milliseconds (CLOCK_MONOTONIC_COARSE: a clock read costs nanoseconds, and
    /// timeouts of seconds need no finer grain).
    static func now() -> UInt64 {
        Clock.monotonicNanoseconds(coarse: true) / 1_000_000
    }
}
