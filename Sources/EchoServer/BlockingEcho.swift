import SocketCore

/// The echo loop of one connection on a blocking socket, as in every textbook:
///
///     while ((n = recv(fd, buf, size, 0)) > 0)   // wait for bytes; 0 means the client's FIN
///         writen(fd, buf, n);                    // send all of them back
///     close(fd);
///
/// Used by the iterative server (one connection at a time) and the threaded one (one per thread).
enum BlockingEcho {
    /// Echoes until the client closes or the connection fails, then closes the socket.
    static func serve(_ client: Socket, peer: String, settings: EchoSettings) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.bufferSize, alignment: 16)
        defer {
            buffer.deallocate()
            try? client.close()
        }
        do {
            while true {
                let count = try client.recv(into: buffer)
                if count == 0 {
                    settings.log.over(peer)
                    return
                }
                let data = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                settings.log.received(data, from: peer)
                try client.sendAll(data)
                settings.log.sent(data, to: peer)
            }
        } catch {
            settings.log.failed(peer, error)
        }
    }
}
