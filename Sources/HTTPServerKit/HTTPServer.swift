@preconcurrency import Glibc
import Dispatch
import SocketCore

/// The listening side: Python's `ThreadingHTTPServer` (socketserver's `TCPServer` with
/// `ThreadingMixIn`).
///
///     init         socket() → setsockopt(SO_REUSEADDR) → bind() → listen()   (server_bind, server_activate)
///     serveForever accept() → a new thread per connection → handler.handle() → shutdown() → close()
///
/// Each connection gets its own thread with blocking calls, so a slow client only ever holds
/// its own thread. At most `maxConnections` are served at once; further clients wait in the
/// kernel's accept queue until a slot frees up.
public final class HTTPServer: Sendable {
    /// Makes the handler for one accepted connection (Python passes the handler class).
    public typealias HandlerFactory = @Sendable (_ socket: Socket, _ clientAddress: String) -> RequestHandler

    /// The listening socket.
    public let socket: Socket
    /// The address it listens on, with the real port when 0 was asked for.
    public let serverAddress: SocketAddress
    /// Seconds a blocked recv()/send() may wait for the client (SO_RCVTIMEO, SO_SNDTIMEO).
    public let timeout: Double
    public let maxConnections: Int
    private let makeHandler: HandlerFactory
    private let slots: DispatchSemaphore

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
    }

    /// The readiness line, as Python prints it:
    /// `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...`
    public var banner: String {
        let host = serverAddress.ip
        let urlHost = host.contains(":") ? "[\(host)]" : host
        return "Serving HTTP on \(host) port \(serverAddress.port) (http://\(urlHost):\(serverAddress.port)/) ..."
    }

    /// Accepts connections forever, each on its own thread (Python's `serve_forever`).
    public func serveForever() {
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
            do {
                try Threads.detach(stackSize: 512 * 1024) { [self] in
                    processRequest(client, peer: peer)
                }
            } catch {
                slots.signal()
                Console.error("http-server: cannot start a thread: \(error)")
                try? client.close()
            }
        }
    }

    /// One connection, on its own thread: set it up, let the handler run, close it.
    func processRequest(_ client: Socket, peer: SocketAddress?) {
        defer { slots.signal() }
        // Timeouts turn a silent client into EAGAIN instead of a thread blocked forever;
        // TCP_NODELAY sends a response's last small segment without waiting for an ACK.
        try? client.setReceiveTimeout(seconds: timeout)
        try? client.setSendTimeout(seconds: timeout)
        try? client.setNoDelay()
        let handler = makeHandler(client, peer?.ip ?? "-")
        handler.requestTimeout = timeout
        handler.handle()
        shutdownRequest(client, lingering: handler.sentError || handler.rfile.bufferedCount > 0)
    }

    /// Ends a connection as socketserver does: shutdown(SHUT_WR) sends our FIN after the last
    /// response byte, then close(). After an error the client may still be sending; closing
    /// with unread data makes the kernel send RST, which can destroy the error response before
    /// the client reads it, so we first read (and drop) what comes, briefly: a "lingering close".
    func shutdownRequest(_ client: Socket, lingering: Bool) {
        try? client.shutdownWrite()
        if lingering {
            try? client.setReceiveTimeout(seconds: 1)
            var drained = 0
            var scratch = [UInt8](repeating: 0, count: 4096)
            while drained < 256 * 1024 {
                guard let n = try? scratch.withUnsafeMutableBytes({ try client.recv(into: $0) }), n > 0 else { break }
                drained += n
            }
        }
        try? client.close()
    }
}
