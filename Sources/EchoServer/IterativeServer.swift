import SocketCore

/// The classic loop: accept one client, echo until it closes, then accept the next.
///
/// While one client is being served, the others wait: their handshakes complete in the kernel
/// (up to the listen backlog) but nobody calls accept() for them. The lessons start here, so the
/// whole walkthrough is on this screen, its Python beside each line.
struct IterativeServer {
    let listener: Socket
    let settings: EchoSettings

    func run() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: settings.bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {                                                  // while True:
            settings.pauseBeforeAccept()                              //   (--accept-delay)
            let client: Socket, address: SocketAddress?
            do {
                (client, address) = try listener.accept()             //   conn, addr = s.accept()
            } catch where Accepting.isTransient(error) {
                settings.log.problem("\(error)")                      //   (a client that reset first,
                if Accepting.isShortage(error) { Syscall.sleep(seconds: 0.1) }   // or no descriptor left)
                continue
            }
            let peer = Accepting.prepare(client, peer: address)
            settings.log.connected(peer)                              //   print('Connected by', addr)
            do {
                if settings.sendTimeout > 0 { try client.setSendTimeout(seconds: settings.sendTimeout) }
                while true {
                    let count = try client.recv(into: buffer)         //     data = conn.recv(2048)
                    if count == 0 {                                   //     if not data: break
                        settings.log.over(peer)
                        break
                    }
                    let data = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                    settings.log.received(data, from: peer)
                    // SO_SNDTIMEO expired (EAGAIN): the client stopped reading its echo.
                    guard try Syscall.unlessWouldBlock({ try client.sendAll(data) }) != nil else {   // conn.sendall(data)
                        throw EchoStalled(seconds: settings.sendTimeout, error: SocketError(call: "send", errno: .wouldBlock))
                    }
                    settings.log.sent(data, to: peer)
                }
            } catch {
                settings.log.failed(peer, error)
            }
            try? client.close()                                       //   conn.close()
        }
    }
}
