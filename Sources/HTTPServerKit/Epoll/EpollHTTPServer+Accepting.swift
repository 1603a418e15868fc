import CLinux
import SocketCore

/// New clients: accept(2) on the non-blocking listener, within the connection limit.
extension EpollHTTPServer {
    /// Accepts every pending client, then re-arms the listener's one-shot watch (so one worker
    /// at a time accepts), unless accepting had to pause.
    func acceptAll() {
        while true {
            let full = openConnections.load(ordering: .relaxed) >= maxConnections
            if full && !canMakeRoom() {
                pauseListener()   // every connection has a request under way: the rest wait in the backlog
                return
            }
            let client: Socket, peer: SocketAddress?
            do {
                guard let accepted = try server.socket.acceptIfReady() else { break }   // the queue is empty
                (client, peer) = accepted
            } catch let error as SocketError where error.isDescriptorShortage {
                Console.error("http-server: accept() failed: \(error.codeName); pausing for a closed connection or 100 ms")
                pauseListener()
                return
            } catch {
                continue   // ECONNABORTED and friends: that client is gone; take the next
            }
            if full { closeOldestIdle() }
            admit(client, clientAddress: peer?.ip ?? "-")
        }
        try? epoll.modify(server.socket.descriptor, events: Self.listenerEvents, data: UInt64(server.socket.descriptor))
    }

    private func admit(_ client: Socket, clientAddress: String) {
        openConnections.add(1, ordering: .relaxed)
        let connection = EpollConnection(socket: client, handler: server.makeHandler(for: client, clientAddress: clientAddress))
        let fd = client.descriptor
        parked.withLock { $0.park(connection, stage: .waiting, now: Self.now()) }
        do {
            try epoll.add(fd, events: Self.watchEvents, data: UInt64(fd))
        } catch {
            if let taken = parked.withLock({ $0.take(fd) }) { close(taken) }
        }
    }

    /// Whether a parked connection can be closed for a new one: one waiting for its first
    /// request or between requests, or one that sent part of a request head and stopped.
    private func canMakeRoom() -> Bool {
        parked.withLock { parked in
            (parked.oldest(in: .waiting).map { !$0.busy } ?? false) || (parked.oldest(in: .reading).map { !$0.busy } ?? false)
        }
    }

    /// Makes room for a new client by closing the connection that has waited longest without a
    /// complete request (nginx's `ngx_drain_connections`): first those with no request under
    /// way, then those that sent part of a head and then nothing (4,000 clients that each sent
    /// `G` must not lock a real one out). A connection whose request arrived since epoll last
    /// reported it is not idle: it is re-armed so that a worker serves it, and the next one is
    /// tried.
    private func closeOldestIdle() {
        for stage in [ParkedConnections.Stage.waiting, .reading] {
            while true {
                let oldest: EpollConnection? = parked.withLock { parked in
                    guard let (fd, _, busy) = parked.oldest(in: stage), !busy else { return nil }
                    return parked.take(fd)
                }
                guard let connection = oldest else { break }
                switch connection.receive() {
                case .request:
                    park(connection, stage: .reading)
                case .partial(started: true) where stage == .waiting:
                    park(connection, stage: .reading)   // its head just began: it is the newest of them now
                case .partial, .closed:
                    close(connection)
                    return
                }
            }
        }
    }

    /// Stops accepting (EPOLL_CTL_MOD with no events): pending clients wait in the backlog.
    private func pauseListener() {
        pausedSince.store(Self.now(), ordering: .relaxed)
        try? epoll.modify(server.socket.descriptor, events: 0, data: UInt64(server.socket.descriptor))
    }

    /// Accepts again: after a connection closed, or 100 ms (the reaper looks).
    func resumeListener() {
        let since = pausedSince.load(ordering: .relaxed)
        guard since != 0, pausedSince.compareExchange(expected: since, desired: 0, ordering: .relaxed).exchanged else { return }
        try? epoll.modify(server.socket.descriptor, events: Self.listenerEvents, data: UInt64(server.socket.descriptor))
    }
}
