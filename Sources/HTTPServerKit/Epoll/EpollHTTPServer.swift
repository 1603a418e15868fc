@preconcurrency import Glibc
import SocketCore
import Synchronization

/// The engine for real use: one event-loop thread waits in epoll(7) for every connection, and
/// handlers run on a pool of worker threads only once a request has arrived.
///
///     event loop   epoll_wait → accept() new clients → recv() what arrived, without waiting
///                  → a whole request head? hand the connection to a worker
///     worker       handler.handleReadyRequests() with blocking send() → back to the loop, or close()
///
/// An idle or slow client costs a descriptor and its entry in `ParkedConnections`, never a
/// thread: 10,000 clients that send nothing cannot delay the one that sends a request. The
/// handler is the same `RequestHandler` the other modes run; it never learns which server
/// runs it.
///
/// Limits, as nginx sets them:
/// - the descriptor limit is raised to the hard limit at start (`worker_rlimit_nofile`);
/// - at most `maxConnections` are open; at the limit, the oldest connection with no request
///   under way is closed to admit a new one (`ngx_drain_connections`);
/// - out of descriptors (EMFILE), the listener is paused, not retried in a loop, until a
///   connection closes or 100 ms pass.
public final class EpollHTTPServer: Sendable {
    /// The listening socket and the per-connection work, shared with the other modes.
    public let server: HTTPServer
    /// Connections open at once, counted from accept() to close().
    public let maxConnections: Int
    let epoll: Epoll
    /// Written by a worker to wake the loop: a connection came back, or one closed while the
    /// listener was paused.
    let wakeUp: Int32
    let returned = Mutex<[Connection]>([])
    let openConnections = Atomic<Int>(0)
    let listenerPaused = Atomic<Bool>(false)

    public init(_ server: HTTPServer, maxConnections: Int) throws {
        self.server = server
        self.maxConnections = maxConnections
        epoll = try Epoll()
        wakeUp = try Syscall.eventfd()
    }

    /// Runs the event loop on this thread, forever (Python's `serve_forever`).
    public func serveForever() {
        let pool = WorkerPool(maximum: 512) { [self] connection in serveReadyRequests(connection) }
        do {
            let loop = try EventLoop(engine: self, workers: pool)
            loop.run()
        } catch {
            Console.error("http-server: cannot start the event loop: \(error)")
            Console.exit(1)
        }
    }

    /// On a worker: serves the requests that have arrived, then gives the connection back to
    /// the loop to wait for the next one, or closes it.
    private func serveReadyRequests(_ connection: Connection) {
        let keepOpen = connection.withHandler { $0.handleReadyRequests() }
        if keepOpen {
            returned.withLock { $0.append(connection) }
            Syscall.eventfdWrite(wakeUp)
        } else {
            let lingering = connection.withHandler { $0.leftInputUnread }
            server.shutdownRequest(connection.socket, lingering: lingering)
            closed()
        }
    }

    /// Counts a closed connection; wakes the loop if it waits for one to resume accepting.
    func closed() {
        openConnections.subtract(1, ordering: .relaxed)
        if listenerPaused.load(ordering: .relaxed) { Syscall.eventfdWrite(wakeUp) }
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
}
