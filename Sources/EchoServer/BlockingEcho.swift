import SocketCore

/// The echo loop of one connection on a blocking socket, as in every textbook:
///
///     while ((n = recv(fd, buf, size, 0)) > 0)   // wait for bytes; 0 means the client's FIN
///         writen(fd, buf, n);                    // send all of them back
///     close(fd);
///
/// Used by the threaded server (one connection per thread) and the select one (a turn at a time);
/// the iterative server spells the same loop out in full (IterativeServer.swift).
///
/// A client that sends but never reads fills our send buffer, and sendAll() would block for as
/// long as the client likes: the iterative server would serve nobody else, ever. SO_SNDTIMEO
/// (`--send-timeout`) bounds each send(): with no room for that long it fails with EAGAIN and
/// the client is dropped, as nginx's `send_timeout` does.
enum BlockingEcho {
    /// Echoes until the client closes or the connection fails, then closes the socket.
    static func serve(_ client: Socket, peer: String, settings: EchoSettings) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.bufferSize, alignment: 16)
        defer {
            buffer.deallocate()
            try? client.close()
        }
        do {
            if settings.sendTimeout > 0 { try client.setSendTimeout(seconds: settings.sendTimeout) }
            while try echoOnce(client, peer: peer, buffer: buffer, settings: settings) {}
        } catch {
            settings.log.failed(peer, error)
        }
    }

    /// One turn of the loop: one recv() and the sendAll() of what it got. False at the client's
    /// FIN (recv() returned 0). The select server calls it once per readable socket.
    static func echoOnce(_ client: Socket, peer: String, buffer: UnsafeMutableRawBufferPointer,
                         settings: EchoSettings) throws -> Bool {
        let count = try client.recv(into: buffer)
        if count == 0 {
            settings.log.over(peer)
            return false
        }
        let data = UnsafeRawBufferPointer(rebasing: buffer[..<count])
        settings.log.received(data, from: peer)
        // On a blocking socket EAGAIN means SO_SNDTIMEO expired: the client stopped reading.
        guard try Syscall.unlessWouldBlock({ try client.sendAll(data) }) != nil else {
            throw EchoStalled(seconds: settings.sendTimeout, error: SocketError(call: "send", errno: .wouldBlock))
        }
        settings.log.sent(data, to: peer)
        return true
    }
}

/// The client left its echo unread for `--send-timeout` seconds (SO_SNDTIMEO expired).
struct EchoStalled: Error, CustomStringConvertible {
    let seconds: Double
    let error: SocketError
    var description: String { "the client read nothing for \(seconds) s (--send-timeout): \(error)" }
}
