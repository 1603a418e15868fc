@preconcurrency import Glibc
import SocketCore

/// One thread serves every client: poll(2) says which sockets are ready, and the loop only makes
/// calls that cannot block. Every socket is O_NONBLOCK: accept() on the readable listening socket,
/// recv() on a readable client, send() on a writable one (the select/poll model of the classic
/// articles; nginx does the same with epoll).
///
/// A client that sends but never reads must not stall the loop. What send() cannot hand to the
/// kernel waits in that connection's own output buffer and the loop asks poll() for POLLOUT. Once
/// the buffer holds `outputLimit` bytes the loop stops reading that client, so the backlog piles
/// up in the client's kernel buffers, and then in its own blocked send(), never in this process.
final class PollServer {
    /// One client's state between two readiness events.
    final class Client {
        let socket: Socket
        let peer: String
        /// Bytes received but not yet sent back: `output[outputStart...]`.
        var output: [UInt8] = []
        var outputStart = 0
        /// The client sent FIN: close once the output buffer is empty.
        var receivedEnd = false
        /// The events poll() watches for now.
        var interest: Int16 = 0

        init(socket: Socket, peer: String) {
            self.socket = socket
            self.peer = peer
        }

        var outputCount: Int { output.count - outputStart }
    }

    private let listener: Socket
    private let settings: EchoSettings
    /// The most a connection may buffer for a client that does not read.
    private let outputLimit: Int
    /// The one read buffer of the loop: each recv() lands here, and most of it goes straight back.
    private let buffer: UnsafeMutableRawBufferPointer
    private var poller = Poller()
    private var connections: [Int32: Client] = [:]
    /// Set when accept() ran out of descriptors: the listening socket rests for one poll() round.
    private var acceptPaused = false

    init(listener: Socket, settings: EchoSettings) {
        self.listener = listener
        self.settings = settings
        self.outputLimit = max(4 * settings.bufferSize, 256 * 1024)
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.bufferSize, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The event loop: wait for readiness, handle each ready socket, repeat.
    func run() throws {
        try listener.setNonBlocking()
        poller.watch(listener.descriptor, events: Int16(POLLIN))
        while true {
            let ready = try poller.wait(timeoutMilliseconds: acceptPaused ? 100 : -1)
            if acceptPaused {
                acceptPaused = false
                poller.watch(listener.descriptor, events: Int16(POLLIN))
            }
            for event in ready {
                if event.descriptor == listener.descriptor {
                    try acceptWaiting()
                } else if let connection = connections[event.descriptor] {
                    service(connection, event)
                }
            }
        }
    }

    // MARK: - The listening socket

    /// Accepts the connections the kernel has queued (a bounded batch, so clients already
    /// connected get their turn too; one at a time with --accept-delay, so that the loop sleeps
    /// only before an accept() that has a connection to take).
    private func acceptWaiting() throws {
        for _ in 0..<(settings.acceptDelay > 0 ? 1 : 64) {
            settings.pauseBeforeAccept()
            let client: Socket, address: SocketAddress?
            do {
                guard let accepted = try listener.acceptIfReady() else { return }   // the queue is empty
                (client, address) = accepted
            } catch where Accepting.isTransient(error) {
                settings.log.problem("\(error)")
                if Accepting.isShortage(error) {
                    acceptPaused = true
                    poller.remove(listener.descriptor)
                }
                return
            }
            do {
                try client.setNonBlocking()
            } catch {
                settings.log.failed("\(address.map { "\($0)" } ?? "unknown peer")", error)
                continue
            }
            let peer = Accepting.prepare(client, peer: address)
            settings.log.connected(peer)
            let connection = Client(socket: client, peer: peer)
            connections[client.descriptor] = connection
            watch(connection, events: Int16(POLLIN))
        }
    }

    // MARK: - A client socket

    /// Does what the readiness allows: send buffered bytes if writable, read if readable,
    /// then closes the connection or updates what poll() should watch for.
    private func service(_ connection: Client, _ event: Poller.Event) {
        do {
            if connection.outputCount > 0 && (event.isWritable || event.isHangUpOrError) {
                try flush(connection)
            }
            if wantsToRead(connection) && (event.isReadable || event.isHangUpOrError) {
                try receive(connection)
            }
            if connection.receivedEnd && connection.outputCount == 0 {
                settings.log.over(connection.peer)
                close(connection)
                return
            }
            var events: Int16 = 0
            if wantsToRead(connection) { events |= Int16(POLLIN) }
            if connection.outputCount > 0 { events |= Int16(POLLOUT) }
            watch(connection, events: events)
        } catch {
            settings.log.failed(connection.peer, error)
            close(connection)
        }
    }

    /// Reading goes on until the client's FIN, and pauses while its output buffer is full.
    private func wantsToRead(_ connection: Client) -> Bool {
        !connection.receivedEnd && connection.outputCount < outputLimit
    }

    /// One recv(); what it got goes straight back with one send() when nothing is queued before
    /// it, and whatever the kernel did not take waits in the output buffer.
    private func receive(_ connection: Client) throws {
        guard let count = try connection.socket.recvIfReady(into: buffer) else { return }   // nothing after all
        if count == 0 {
            connection.receivedEnd = true
            return
        }
        let data = UnsafeRawBufferPointer(rebasing: buffer[..<count])
        settings.log.received(data, from: connection.peer)
        var sent = 0
        if connection.outputCount == 0 {
            sent = try sendSome(connection, data)
        }
        if sent < count {
            connection.output.append(contentsOf: data[sent...])
        }
    }

    /// Sends from the output buffer until it is empty or the kernel's send buffer is full.
    private func flush(_ connection: Client) throws {
        while connection.outputCount > 0 {
            let sent = try connection.output.withUnsafeBytes {
                try sendSome(connection, UnsafeRawBufferPointer(rebasing: $0[connection.outputStart...]))
            }
            if sent == 0 { break }
            connection.outputStart += sent
        }
        if connection.outputStart == connection.output.count {
            connection.output.removeAll(keepingCapacity: true)
            connection.outputStart = 0
        } else if connection.outputStart >= connection.output.count / 2 {
            connection.output.removeFirst(connection.outputStart)
            connection.outputStart = 0
        }
    }

    /// One send(); 0 when the send buffer is full (EAGAIN).
    private func sendSome(_ connection: Client, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard let sent = try connection.socket.sendIfReady(bytes) else { return 0 }
        settings.log.sent(UnsafeRawBufferPointer(rebasing: bytes[..<sent]), to: connection.peer)
        return sent
    }

    private func watch(_ connection: Client, events: Int16) {
        guard connection.interest != events else { return }
        connection.interest = events
        poller.watch(connection.socket.descriptor, events: events)
    }

    private func close(_ connection: Client) {
        poller.remove(connection.socket.descriptor)
        connections[connection.socket.descriptor] = nil
        try? connection.socket.close()
    }
}
