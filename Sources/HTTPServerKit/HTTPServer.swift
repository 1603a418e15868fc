@preconcurrency import Glibc
import Dispatch
import SocketCore

/// Python's `HTTPServer` (socketserver's `TCPServer`): one connection at a time.
///
///     init          socket() → setsockopt(SO_REUSEADDR) → bind() → listen()   (server_bind, server_activate)
///     serveForever  accept() → handler.handle() → shutdown() → close(), again and again
///
/// While one client is connected, nobody else is served: with `-p HTTP/1.1`, a browser that
/// keeps its connection open holds the server until the connection times out (`--timeout`).
/// That is Python's behaviour too, and the reason `ThreadingHTTPServer` exists. The other two
/// modes reuse this type's socket and its `processRequest`.
public final class HTTPServer: Sendable {
    /// Makes the handler for one accepted connection (Python passes the handler class).
    public typealias HandlerFactory = @Sendable (_ socket: Socket, _ clientAddress: String) -> RequestHandler

    /// The listening socket.
    public let socket: Socket
    /// The address it listens on, with the real port when 0 was asked for.
    public let serverAddress: SocketAddress
    /// Seconds a blocked recv()/send() may wait for the client (SO_RCVTIMEO, SO_SNDTIMEO), a
    /// request head may take, and a keep-alive connection may stay idle.
    public let timeout: Double
    let makeHandler: HandlerFactory

    /// Binds and listens (Python's `server_bind` + `server_activate`). Throws the failed call:
    /// `bind() failed: EADDRINUSE (Address already in use)`.
    public init(host: String, port: Int, backlog: Int32 = 1024, timeout: Double = 20,
                makeHandler: @escaping HandlerFactory) throws {
        socket = try Socket.listening(host: host, port: port, backlog: backlog)
        guard let address = socket.localAddress else {
            throw SocketError(call: "getsockname", codeName: "EINVAL", reason: "no local address")
        }
        serverAddress = address
        self.timeout = timeout
        self.makeHandler = makeHandler
    }

    /// The readiness line, as Python prints it:
    /// `Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...`
    public var banner: String {
        let host = serverAddress.ip
        let urlHost = host.contains(":") ? "[\(host)]" : host
        return "Serving HTTP on \(host) port \(serverAddress.port) (http://\(urlHost):\(serverAddress.port)/) ..."
    }

    /// Serves one connection after another, forever (Python's `serve_forever`).
    public func serveForever() {
        while true {
            guard let (client, address) = getRequest() else { continue }
            processRequest(client, clientAddress: address)
        }
    }

    /// accept(2) (Python's `get_request`): the next connection, or nil when this one failed.
    /// Out of descriptors (EMFILE, ENFILE), waits 100 ms for connections to finish rather
    /// than retrying at once: the pending connection would fail the same way, in a busy loop.
    func getRequest() -> (Socket, String)? {
        do {
            let (client, peer) = try socket.accept()
            return (client, peer?.ip ?? "-")
        } catch let error as SocketError where error.isDescriptorShortage {
            Console.error("http-server: accept() failed: \(error.codeName); retrying in 100 ms")
            Syscall.sleep(seconds: 0.1)
        } catch {
            // ECONNABORTED and friends: that client is gone; take the next.
        }
        return nil
    }

    /// Serves a connection and closes it (Python's `finish_request` + `shutdown_request`).
    func processRequest(_ client: Socket, clientAddress: String) {
        let handler = makeHandler(for: client, clientAddress: clientAddress)
        handler.handle()
        if let stream = handler.responseStream { sendStream(stream, to: client) }
        shutdownRequest(client, lingering: handler.leftInputUnread)
    }

    /// Writes what other threads push into a response stream, on this connection's thread,
    /// until the stream finishes or the client is gone.
    func sendStream(_ stream: ResponseStream, to client: Socket) {
        let pushed = DispatchSemaphore(value: 0)
        stream.onWake({ pushed.signal() }, hangUp: { try? client.shutdownBoth() })
        while true {
            // A source-fed body is made as fast as sendAll() takes it: nobody pushes, nobody wakes.
            if stream.source == nil { pushed.wait() }
            let (bytes, finished) = stream.takePending()
            guard (try? client.sendAll(bytes)) != nil, !finished else { break }
        }
        stream.close {}
    }

    /// The handler for a new connection, with the connection's socket options set.
    /// Timeouts turn a silent client into EAGAIN instead of a thread blocked forever;
    /// TCP_NODELAY sends a response's last small segment without waiting for an ACK.
    func makeHandler(for client: Socket, clientAddress: String) -> RequestHandler {
        try? client.setReceiveTimeout(seconds: timeout)
        try? client.setSendTimeout(seconds: timeout)
        try? client.setNoDelay()
        let handler = makeHandler(client, clientAddress)
        handler.requestTimeout = timeout
        return handler
    }

    /// Ends a connection as socketserver does: shutdown(SHUT_WR) sends our FIN after the last
    /// response byte, then close(). But closing with unread data makes the kernel send RST and
    /// throw away what it has not sent yet: a response still queued for a client that sent
    /// more than we read (an error's request, a body nobody read) would be cut short. So, in
    /// that case, we first read and drop what comes until the client closes: a "lingering
    /// close", as Apache and nginx do. It ends after 2 silent seconds, or `timeout` in all, so a
    /// client trickling bytes holds the connection no longer than a slow request head could.
    func shutdownRequest(_ client: Socket, lingering: Bool) {
        try? client.shutdownWrite()
        if lingering {
            let deadline = Clock.monotonicNanoseconds() + UInt64(min(timeout, 86_400) * 1e9)
            try? client.setReceiveTimeout(seconds: 2)
            var scratch = [UInt8](repeating: 0, count: 16 * 1024)
            while Clock.monotonicNanoseconds() < deadline {
                guard let n = try? scratch.withUnsafeMutableBytes({ try client.recv(into: $0) }), n > 0 else { break }
            }
        }
        try? client.close()
    }
}

extension SocketError {
    /// EMFILE (this process) or ENFILE (the whole system): no descriptor left to open.
    var isDescriptorShortage: Bool {
        errno == .tooManyOpenFiles || errno == Errno(rawValue: ENFILE)
    }
}
