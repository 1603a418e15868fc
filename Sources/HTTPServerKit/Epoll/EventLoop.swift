@preconcurrency import Glibc
import CLinux
import SocketCore

/// The epoll engine's one event-loop thread: it accepts, reads request heads as they arrive,
/// and owns every connection that waits for its client (`parked`).
///
/// Each parked socket is watched with EPOLLONESHOT: once reported readable, the watch is off
/// until the loop re-arms it, so a connection handed to a worker is never reported to the loop
/// while the worker reads it.
final class EventLoop {
    private let engine: EpollHTTPServer
    private let workers: WorkerPool
    private let parked = ParkedConnections()
    private let listener: Int32
    private let timeoutMilliseconds: UInt64
    /// When the listener was paused for lack of descriptors or connections (nil: accepting).
    private var pausedSince: UInt64?
    private static let watchEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
    private static let pauseMilliseconds: UInt64 = 100

    init(engine: EpollHTTPServer, workers: WorkerPool) throws {
        self.engine = engine
        self.workers = workers
        listener = engine.server.socket.descriptor
        timeoutMilliseconds = UInt64(min(engine.server.timeout, 86_400) * 1000)
        try engine.server.socket.setNonBlocking(true)   // accept() until EAGAIN, never wait in it
        try engine.epoll.add(listener, events: EPOLLIN.rawValue, data: UInt64(listener))
        try engine.epoll.add(engine.wakeUp, events: EPOLLIN.rawValue, data: UInt64(engine.wakeUp))
    }

    func run() -> Never {
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        while true {
            let count = (try? engine.epoll.wait(into: events, timeout: nextTimeout())) ?? 0
            for event in events[0..<count] {
                let fd = Int32(truncatingIfNeeded: event.data.u64)
                if fd == listener {
                    acceptAll()
                } else if fd == engine.wakeUp {
                    Syscall.eventfdRead(engine.wakeUp)
                    parkReturned()
                } else {
                    readable(fd)
                }
            }
            let now = Self.now()
            if let since = pausedSince, now - since >= Self.pauseMilliseconds || !engine.listenerPaused.load(ordering: .relaxed) {
                resumeListener()
            }
            closeExpired(now: now)
        }
    }

    // MARK: - Accepting

    /// Accepts every pending client (the listener is level-triggered and non-blocking).
    private func acceptAll() {
        while pausedSince == nil {
            let full = engine.openConnections.load(ordering: .relaxed) >= engine.maxConnections
            if full && parked.oldest(in: .waiting) == nil {
                pauseListener()   // every connection has a request under way: the rest wait in the backlog
                return
            }
            let client: Socket, peer: SocketAddress?
            do {
                (client, peer) = try engine.server.socket.accept()
            } catch let error as SocketError where error.isWouldBlock {
                return
            } catch let error as SocketError where error.isDescriptorShortage {
                Console.error("http-server: accept() failed: \(error.codeName); pausing for a closed connection or 100 ms")
                pauseListener()
                return
            } catch {
                continue   // ECONNABORTED and friends: that client is gone; take the next
            }
            if full { closeOldestWaiting() }
            engine.openConnections.add(1, ordering: .relaxed)
            let connection = Connection(socket: client,
                                        handler: engine.server.makeHandler(for: client, clientAddress: peer?.ip ?? "-"))
            do {
                try engine.epoll.add(client.descriptor, events: Self.watchEvents, data: UInt64(client.descriptor))
                parked.park(connection, stage: .waiting, now: Self.now())
            } catch {
                close(connection)
            }
        }
    }

    /// Closes the connection that has waited longest without a request under way, to make
    /// room for a new client (nginx's `ngx_drain_connections`). One whose request arrived
    /// since the last epoll_wait is not idle: it is served instead, and the next one tried.
    private func closeOldestWaiting() {
        while let (fd, _) = parked.oldest(in: .waiting), let connection = parked.take(fd) {
            switch connection.receive() {
            case .request:
                workers.submit(connection)
            case .partial(started: true):
                parked.park(connection, stage: .reading, now: Self.now())
            case .partial(started: false), .closed:
                close(connection)
                return
            }
        }
    }

    private func pauseListener() {
        engine.listenerPaused.store(true, ordering: .relaxed)
        pausedSince = Self.now()
        try? engine.epoll.modify(listener, events: 0, data: UInt64(listener))
    }

    private func resumeListener() {
        pausedSince = nil
        engine.listenerPaused.store(false, ordering: .relaxed)
        try? engine.epoll.modify(listener, events: EPOLLIN.rawValue, data: UInt64(listener))
    }

    // MARK: - Waiting for requests

    /// A parked socket is readable: take what arrived; a whole head goes to a worker.
    private func readable(_ fd: Int32) {
        guard let connection = parked.connection(fd), let stage = parked.stage(fd) else { return }
        switch connection.receive() {
        case .request:
            parked.take(fd)
            workers.submit(connection)
        case .closed:
            parked.take(fd)
            close(connection)
        case .partial(let started):
            if started && stage == .waiting {
                // The first bytes of a request: from now on it has `--timeout` to arrive in full.
                parked.take(fd)
                parked.park(connection, stage: .reading, now: Self.now())
            }
            rearm(connection)
        }
    }

    /// Connections the workers gave back after their response: wait for the next request.
    private func parkReturned() {
        let connections = engine.returned.withLock { list in
            defer { list.removeAll(keepingCapacity: true) }
            return list
        }
        let now = Self.now()
        for connection in connections {
            let started = connection.withHandler { $0.rfile.bufferedCount > 0 }
            parked.park(connection, stage: started ? .reading : .waiting, now: now)
            rearm(connection)
        }
    }

    private func rearm(_ connection: Connection) {
        do {
            try engine.epoll.modify(connection.descriptor, events: Self.watchEvents, data: UInt64(connection.descriptor))
        } catch {
            parked.take(connection.descriptor)
            close(connection)
        }
    }

    // MARK: - Timeouts

    /// Closes connections that waited `--timeout`: idle ones silently, half-sent heads with
    /// Python's log line.
    private func closeExpired(now: UInt64) {
        for stage in [ParkedConnections.Stage.waiting, .reading] {
            while let (fd, since) = parked.oldest(in: stage), now >= since + timeoutMilliseconds {
                guard let connection = parked.take(fd) else { break }
                if stage == .reading { connection.withHandler { $0.requestTimedOut() } }
                close(connection)
            }
        }
    }

    /// Milliseconds until the next connection expires or the paused listener is retried.
    private func nextTimeout() -> Int32 {
        let now = Self.now()
        var next = UInt64.max
        for stage in [ParkedConnections.Stage.waiting, .reading] {
            if let (_, since) = parked.oldest(in: stage) { next = min(next, since + timeoutMilliseconds) }
        }
        if let since = pausedSince { next = min(next, since + Self.pauseMilliseconds) }
        if next == UInt64.max { return -1 }
        return next <= now ? 0 : Int32(min(next - now + 1, 60_000))
    }

    /// Closes a connection no request is under way on: nothing to linger for.
    private func close(_ connection: Connection) {
        try? connection.socket.close()
        engine.closed()
    }

    /// Monotonic milliseconds (CLOCK_MONOTONIC_COARSE: a clock read costs nanoseconds, and
    /// timeouts of seconds need no finer grain).
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
