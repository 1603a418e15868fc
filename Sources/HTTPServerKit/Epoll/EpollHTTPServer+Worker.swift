import CLinux
import SocketCore

/// What each worker thread does: wait in epoll for one ready socket, and deal with it.
extension EpollHTTPServer {
    func work() {
        let event = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 1)   // one report per wait
        defer { event.deallocate() }
        while true {
            waitingWorkers.add(1, ordering: .relaxed)
            let count = (try? epoll.wait(into: event, timeout: 10_000)) ?? 0
            waitingWorkers.subtract(1, ordering: .relaxed)
            guard count == 1 else {
                // Ten idle seconds: leave if there are more workers than the pool keeps.
                if workers.load(ordering: .relaxed) > minimumWorkers {
                    workers.subtract(1, ordering: .relaxed)
                    return
                }
                continue
            }
            let fd = Int32(truncatingIfNeeded: event[0].data.u64)
            if fd == server.socket.descriptor {
                acceptAll()
            } else if event[0].events & EPOLLOUT.rawValue != 0 || isStream(fd) {
                writable(fd)
            } else {
                readable(fd)
            }
        }
    }

    /// A parked socket is readable: take what arrived; serve a whole request head.
    private func readable(_ fd: Int32) {
        // Nil when the reaper or an eviction closed it meanwhile: the report is stale.
        guard let (connection, stage) = parked.withLock({ $0.borrow(fd) }) else { return }
        switch connection.receive() {
        case .request:
            _ = parked.withLock { $0.take(fd) }
            serve(connection)
        case .closed:
            _ = parked.withLock { $0.take(fd) }
            close(connection)
        case .partial(let started):
            if started && stage == .waiting {
                // The first bytes of a request: from now on the head has --timeout to arrive.
                _ = parked.withLock { $0.take(fd) }
                park(connection, stage: .reading)
            } else {
                parked.withLock { $0.giveBack(fd) }
                rearm(connection)
            }
        }
    }

    /// Runs the handler on the requests that have arrived, then parks the connection for the
    /// next one, or closes it.
    private func serve(_ connection: EpollConnection) {
        let keepOpen = connection.withHandler { $0.handleReadyRequests() }
        requestsFinished.add(1, ordering: .relaxed)
        if let stream = connection.withHandler({ $0.responseStream }) {
            startStreaming(connection, stream)
            return
        }
        guard keepOpen else {
            let lingering = connection.withHandler { $0.leftInputUnread }
            server.shutdownRequest(connection.socket, lingering: lingering)
            closed()
            return
        }
        let started = connection.withHandler { $0.rfile.bufferedCount > 0 }
        park(connection, stage: started ? .reading : .waiting)
    }

    /// Puts a connection in `parked`, waiting from now, and re-arms its one-shot watch.
    func park(_ connection: EpollConnection, stage: ParkedConnections.Stage) {
        parked.withLock { $0.park(connection, stage: stage, now: Self.now()) }   // in order of time
        rearm(connection)
    }

    /// EPOLL_CTL_MOD: report the parked connection once more when it is readable (at once, if
    /// bytes have arrived since the last look).
    func rearm(_ connection: EpollConnection) {
        let fd = connection.descriptor
        do {
            try epoll.modify(fd, events: Self.watchEvents, data: UInt64(fd))
        } catch {
            if let taken = parked.withLock({ $0.take(fd) }) { close(taken) }
        }
    }

    /// Closes a connection no request is under way on: nothing to linger for.
    func close(_ connection: EpollConnection) {
        try? connection.socket.close()
        closed()
    }

    /// Counts a closed connection; resumes a listener that waited for one.
    func closed() {
        openConnections.subtract(1, ordering: .relaxed)
        if pausedSince.load(ordering: .relaxed) != 0 { resumeListener() }
    }
}
