@preconcurrency import Glibc
import Dispatch
import SocketCore
import Synchronization

/// The listening side: Python's `ThreadingHTTPServer` (socketserver's `TCPServer` with
/// `ThreadingMixIn`), made to scale.
///
///     init         socket() → setsockopt(SO_REUSEADDR) → bind() → listen()   (server_bind, server_activate)
///     serveForever accept() → epoll → a worker thread runs the handler → shutdown() → close()
///
/// Requests are served exactly as in Python: a thread runs the handler with blocking recv() and
/// send(). The difference is what happens *between* requests. Python keeps one thread per
/// connection, asleep in recv() while a keep-alive client is idle. Here an idle connection is
/// parked in epoll(7) and holds no thread; when its next request arrives, whichever worker is
/// free takes it. A busy worker thus goes from one ready connection to the next without
/// sleeping, which saves a context switch per request.
///
/// Workers are a pool of two per core that grows when a worker has to wait for a slow client
/// (it holds its worker until its request arrives or times out) or when ready connections find
/// every worker stuck, up to one per connection; extra workers leave after 10 idle seconds.
/// At most `maxConnections` connections are open at once; further clients wait in the listen
/// backlog.
public final class HTTPServer: Sendable {
    /// Makes the handler for one accepted connection (Python passes the handler class).
    public typealias HandlerFactory = @Sendable (_ socket: Socket, _ clientAddress: String) -> RequestHandler

    /// The listening socket.
    public let socket: Socket
    /// The address it listens on, with the real port when 0 was asked for.
    public let serverAddress: SocketAddress
    /// Seconds a blocked recv()/send() may wait for the client (SO_RCVTIMEO, SO_SNDTIMEO), a
    /// request head may take, and a keep-alive connection may stay idle.
    public let timeout: Double
    public let maxConnections: Int
    private let makeHandler: HandlerFactory
    private let slots: DispatchSemaphore
    private let epoll: Epoll
    private let idle: IdleConnections
    private let workers = Atomic<Int>(0)
    private let waitingWorkers = Atomic<Int>(0)
    private let connectionsTaken = Atomic<Int>(0)
    /// Set while the stall watcher sleeps because no worker is busy; the first worker to take a
    /// connection clears it and signals `watcherWakeUp`.
    private let watcherAsleep = Atomic<Bool>(false)
    private let watcherWakeUp = DispatchSemaphore(value: 0)
    private let minimumWorkers: Int

    /// Binds and listens (Python's `server_bind` + `server_activate`). Throws the failed call:
    /// `bind() failed: EADDRINUSE (Address already in use)`.
    public init(host: String, port: Int, backlog: Int32 = 1024, maxConnections: Int = 1024,
                timeout: Double = 20, makeHandler: @escaping HandlerFactory) throws {
        socket = try Socket.listening(host: host, port: port, backlog: backlog)
        guard let address = socket.localAddress else {
            throw SocketError(call: "getsockname", codeName: "EINVAL", reason: "no local address")
        }
        serverAddress = address
        self.timeout = timeout
        self.maxConnections = maxConnections
        self.makeHandler = makeHandler
        slots = DispatchSemaphore(value: maxConnections)
        epoll = try Epoll()
        // Descriptor numbers stay below the open connections plus a few files and the listener.
        idle = IdleConnections(capacity: 2 * maxConnections + 256)
        minimumWorkers = max(2, 2 * sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// The readiness line, as Python prints it:
    /// `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...`
    public var banner: String {
        let host = serverAddress.ip
        let urlHost = host.contains(":") ? "[\(host)]" : host
        return "Serving HTTP on \(host) port \(serverAddress.port) (http://\(urlHost):\(serverAddress.port)/) ..."
    }

    /// Accepts connections forever and hands them to the workers (Python's `serve_forever`).
    public func serveForever() {
        for _ in 0..<minimumWorkers { startWorker() }
        try? Threads.detach { [self] in reapIdleConnections() }
        try? Threads.detach { [self] in watchForStalls() }
        while true {
            slots.wait()
            let client: Socket
            let peer: SocketAddress?
            do {
                (client, peer) = try socket.accept()
            } catch {
                slots.signal()
                if let error = error as? SocketError, error.errno == .tooManyOpenFiles || error.errno == Errno(rawValue: ENFILE) {
                    Console.error("http-server: accept() failed: \(error.codeName); retrying in 100 ms")
                    usleep(100_000)   // out of descriptors: wait for connections to finish
                }
                continue   // ECONNABORTED and friends: that client is gone, take the next
            }
            // Timeouts turn a silent client into EAGAIN instead of a worker blocked forever;
            // TCP_NODELAY sends a response's last small segment without waiting for an ACK.
            try? client.setReceiveTimeout(seconds: timeout)
            try? client.setSendTimeout(seconds: timeout)
            try? client.setNoDelay()
            let handler = makeHandler(client, peer?.ip ?? "-")
            handler.requestTimeout = timeout
            handler.rfile.willBlock = { [self] in addWorkerIfNoneWaiting() }
            handler.wfile.willBlock = { [self] in addWorkerIfNoneWaiting() }
            park(Connection(socket: client, handler: handler), new: true)
        }
    }

    /// One accepted connection and its handler: what epoll hands back when it is readable.
    final class Connection {
        let socket: Socket
        let handler: RequestHandler
        init(socket: Socket, handler: RequestHandler) {
            self.socket = socket
            self.handler = handler
        }
    }

    /// Puts a connection to wait in epoll for its next request. The watch holds a +1 reference
    /// (`passRetained`), which the worker that gets the event takes back.
    private func park(_ connection: Connection, new: Bool) {
        let fd = connection.socket.descriptor
        idle.park(fd)
        let token = UInt64(UInt(bitPattern: Unmanaged.passRetained(connection).toOpaque()))
        do {
            try epoll.watchOnce(fd, token: token, add: new)
        } catch {
            Unmanaged<Connection>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(token))!).release()
            idle.take(fd)
            finish(connection)
        }
    }

    private func startWorker() {
        workers.add(1, ordering: .relaxed)
        do {
            try Threads.detach(stackSize: 512 * 1024) { [self] in work() }
        } catch {
            workers.subtract(1, ordering: .relaxed)
        }
    }

    /// A worker: wait for a readable connection, serve what it sent, park it again or close it.
    private func work() {
        while true {
            waitingWorkers.add(1, ordering: .relaxed)
            let token = try? epoll.waitForOne(timeout: 10_000)
            // Sequentially consistent, with the flag read after it: see `watchForStalls`.
            waitingWorkers.subtract(1, ordering: .sequentiallyConsistent)
            guard let token, let address = UnsafeRawPointer(bitPattern: UInt(token)) else {
                // Ten idle seconds: leave if there are more workers than the pool keeps.
                if workers.load(ordering: .relaxed) > minimumWorkers {
                    workers.subtract(1, ordering: .relaxed)
                    return
                }
                continue
            }
            connectionsTaken.add(1, ordering: .relaxed)
            if watcherAsleep.load(ordering: .sequentiallyConsistent),
               watcherAsleep.exchange(false, ordering: .sequentiallyConsistent) {
                watcherWakeUp.signal()   // this worker is busy now: the watcher has something to watch
            }
            let connection = Unmanaged<Connection>.fromOpaque(address).takeRetainedValue()
            idle.take(connection.socket.descriptor)
            if connection.handler.handleAvailableRequests() {
                park(connection, new: false)
            } else {
                finish(connection)
            }
        }
    }

    /// A worker is about to wait for a slow client: if no other worker is waiting in epoll,
    /// start one, so the slow client never delays anyone else.
    private func addWorkerIfNoneWaiting() {
        if waitingWorkers.load(ordering: .relaxed) == 0 && workers.load(ordering: .relaxed) < maxConnections + minimumWorkers {
            startWorker()
        }
    }

    /// Workers can also be held up in ways no hook announces (a handler subclass doing its own
    /// blocking I/O, a send() of headers to a client that stopped reading). Every 10 ms: if
    /// connections are ready (the epoll descriptor itself polls readable), no worker is waiting
    /// for them and none was taken since the last look, the workers are stuck, not just busy:
    /// start one more.
    ///
    /// Only busy workers can get stuck, so while every worker waits in epoll the watcher sleeps
    /// on a semaphore instead of waking 100 times a second for nothing. Going to sleep races
    /// with a worker taking a connection; the flag is set, then the workers are counted again,
    /// while the worker counts itself busy, then reads the flag (both sequentially consistent):
    /// at least one of the two sees the other, and the flag's exchange decides who signals.
    private func watchForStalls() {
        var lastTaken = -1
        while true {
            if busyWorkers == 0 {
                watcherAsleep.store(true, ordering: .sequentiallyConsistent)
                if busyWorkers > 0 && watcherAsleep.exchange(false, ordering: .sequentiallyConsistent) {
                    // A worker became busy meanwhile but missed the flag: stay awake.
                } else {
                    watcherWakeUp.wait()   // signalled by the worker that cleared the flag
                }
                lastTaken = -1
            }
            usleep(10_000)
            let taken = connectionsTaken.load(ordering: .relaxed)
            defer { lastTaken = taken }
            guard taken == lastTaken, waitingWorkers.load(ordering: .relaxed) == 0 else { continue }
            // poll(2) called directly, not through Syscall: a look every 10 ms would flood --trace.
            var ready = pollfd(fd: epoll.descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 0) == 1 { addWorkerIfNoneWaiting() }
        }
    }

    /// Workers not waiting in epoll: serving a connection, or just started.
    private var busyWorkers: Int {
        workers.load(ordering: .sequentiallyConsistent) - waitingWorkers.load(ordering: .sequentiallyConsistent)
    }

    /// Closes keep-alive connections idle longer than the timeout, once a second.
    private func reapIdleConnections() {
        let seconds = max(1, Int(timeout.rounded(.up)))
        while true {
            sleep(1)
            idle.reap(olderThan: seconds)
        }
    }

    /// Ends a connection and frees its slot.
    private func finish(_ connection: Connection) {
        let handler = connection.handler
        let unread = handler.sentError || handler.rfile.bufferedCount > 0 || handler.requestHasBody
        if unread { addWorkerIfNoneWaiting() }   // the lingering close may hold this worker for seconds
        shutdownRequest(connection.socket, lingering: unread)
        slots.signal()
    }

    /// Ends a connection as socketserver does: shutdown(SHUT_WR) sends our FIN after the last
    /// response byte, then close(). But closing with unread data makes the kernel send RST and
    /// throw away what it has not sent yet: a response still queued for a client that sent
    /// more than we read (an error's request, a body nobody read) would be cut short. So, in
    /// that case, we first read and drop what comes until the client closes: a "lingering
    /// close", as Apache and nginx do. It ends after 2 silent seconds, or `timeout` in all, so a
    /// client trickling bytes holds the connection no longer than a slow request head could.
    func shutdownRequest(_ client: Socket, lingering: Bool) {
        try? client.shutdownWrite()
        if lingering {
            let deadline = Clock.monotonicNanoseconds() + UInt64(min(timeout, 86_400) * 1e9)
            try? client.setReceiveTimeout(seconds: 2)
            var scratch = [UInt8](repeating: 0, count: 16 * 1024)
            while Clock.monotonicNanoseconds() < deadline {
                guard let n = try? scratch.withUnsafeMutableBytes({ try client.recv(into: $0) }), n > 0 else { break }
            }
        }
        try? client.close()
    }
}

