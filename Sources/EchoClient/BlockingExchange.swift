import SocketCore

/// `--blocking`: the classic walkthrough's client, call for call, on a blocking socket:
///
///     s.connect((HOST, PORT))          # socket(), connect()
///     s.sendall(message)               # send() in a loop until the kernel has taken every byte
///     while received < len(message):
///         data = s.recv(10)            # recv(10): at most 10 bytes per call
///     s.close()
///
/// No poll(), no O_NONBLOCK, no shutdown(). It works while the whole message fits in the buffers
/// between client and server (both sockets' send and receive buffers). A bigger message
/// deadlocks: the server blocks sending the echo nobody reads yet, so it stops reading, so our
/// sendall() blocks too, and the receive window closes to 0. `--timeout` (SO_SNDTIMEO and
/// SO_RCVTIMEO here) or the server's `--send-timeout` ends it. The default client avoids the
/// deadlock with poll(): see `EchoExchange`.
struct BlockingExchange {
    let socket: Socket
    /// The server as the user named it, for the lines (getpeername() would be one more call).
    let server: String
    let message: [UInt8]
    /// `--recv-size`: bytes asked of each recv() (10, as in the walkthrough).
    let recvSize: Int
    let quiet: Bool
    /// `--timeout`: seconds any one send() or recv() may wait (0: forever).
    let timeout: Double

    func run() throws {
        let started = Clock.monotonicNanoseconds()
        if !quiet { Console.line("client connected to \(server)") }
        if timeout > 0 {
            try socket.setSendTimeout(seconds: timeout)
            try socket.setReceiveTimeout(seconds: timeout)
        }
        // On a blocking socket EAGAIN means SO_SNDTIMEO expired.
        guard try Syscall.unlessWouldBlock({ try socket.sendAll(message) }) != nil else {
            throw EchoMismatch(description: "timed out: sendall() blocked for \(timeout) s (--timeout): "
                                            + "nobody reads the echo, so the server stopped reading")
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: recvSize, alignment: 16)
        defer { chunk.deallocate() }
        var received = 0
        while received < message.count {
            guard let count = try socket.recvIfReady(into: chunk) else {   // SO_RCVTIMEO expired
                throw EchoMismatch(description: "timed out: nothing moved for \(timeout) s (--timeout); "
                                                + "\(received) of \(message.count) bytes echoed")
            }
            if count == 0 {
                throw EchoMismatch(description:
                    "the server closed the connection after echoing \(received) of \(message.count) bytes")
            }
            let got = UnsafeRawBufferPointer(rebasing: chunk[..<count])
            try EchoExchange.check(got, at: received, against: message)
            received += count
            if !quiet { Console.line("client Received: \(Console.bytesLiteral(got))") }
        }
        if quiet {
            Console.line("client echoed \(message.count) bytes from \(server) in "
                         + "\(EchoExchange.formatted(Double(Clock.monotonicNanoseconds() - started) / 1e9)) s, byte for byte")
        }
        Console.line("closing connection to the server")
    }
}
