import SocketCore

/// One thread serves every client with select(2), the "select IO" of the classic walkthroughs:
///
///     readable = {listener} ∪ clients
///     select(readable)                      # sleep until someone has something for us
///     if listener in readable: accept()     # a finished handshake is queued
///     for each ready client: recv(), then send it all back (0 bytes: the client's FIN, close)
///
/// select() cannot watch descriptor 1024 or above (FD_SETSIZE): such a client is closed at once
/// with a line that points to `--mode poll`, and the others are served on.
///
/// The echo goes back with a blocking sendall(), as in the classic loop. A client that sends but
/// never reads would block it, and with it every other client: SO_SNDTIMEO (`--send-timeout`)
/// bounds that stall and drops the client. poll mode buffers such a client's echo instead.
struct SelectServer {
    let listener: Socket
    let settings: EchoSettings

    func run() throws {
        // select() may report a connection that is reset before accept() takes it: with a
        // non-blocking listener that accept() fails with EAGAIN instead of sleeping until the
        // next client while every connected one waits.
        try listener.setNonBlocking()
        var clients: [Int32: (socket: Socket, peer: String)] = [:]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            var readable = DescriptorSet(), writable = DescriptorSet()
            readable.insert(listener.descriptor)
            for descriptor in clients.keys { readable.insert(descriptor) }
            _ = try Syscall.select(&readable, &writable)

            if readable.contains(listener.descriptor), let (client, peer) = try acceptOne() {
                clients[client.descriptor] = (client, peer)
            }
            for (descriptor, client) in clients where readable.contains(descriptor) {
                if !echoOnce(client.socket, peer: client.peer, buffer: buffer) {
                    try? client.socket.close()
                    clients[descriptor] = nil
                }
            }
        }
    }

    /// The shared accept step, then the check only select() needs: does the new descriptor fit
    /// in an fd_set? Nil when there was nothing to take after all, or the client was turned away.
    private func acceptOne() throws -> (Socket, String)? {
        guard let (client, peer) = try Accepting.next(from: listener, settings: settings) else { return nil }
        guard DescriptorSet.canHold(client.descriptor) else {
            settings.log.problem("select() cannot watch fd \(client.descriptor) (FD_SETSIZE \(DescriptorSet.capacity)): use --mode poll")
            try? client.close()
            return nil
        }
        do {
            if settings.sendTimeout > 0 { try client.setSendTimeout(seconds: settings.sendTimeout) }
        } catch {
            settings.log.failed(peer, error)
            try? client.close()
            return nil
        }
        return (client, peer)
    }

    /// One recv() on a client select() reported readable, and its echo. False once the
    /// connection is over (the client's FIN) or failed: the caller closes it.
    private func echoOnce(_ client: Socket, peer: String, buffer: UnsafeMutableRawBufferPointer) -> Bool {
        do {
            return try BlockingEcho.echoOnce(client, peer: peer, buffer: buffer, settings: settings)
        } catch {
            settings.log.failed(peer, error)
            return false
        }
    }
}
