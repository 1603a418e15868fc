@preconcurrency import Glibc
import Synchronization

/// One TCP socket: it owns a file descriptor and closes it exactly once.
///
/// The methods are the BSD socket calls by name, in the order a program makes them:
///
///     server: Socket(family:) → setReuseAddress → bind → listen → accept → recv/send → close
///     client: Socket(family:) → connect → sendAll → recv … → close
///
/// A `Socket` may be shared between threads (its descriptor never changes); `close()` may be
/// called from any thread, and only the first call reaches the kernel. Dropping the last
/// reference closes it too, so an error path never leaks a descriptor.
public final class Socket: Sendable, CustomStringConvertible {
    /// The kernel's handle: a small integer, like the one open() returns for a file.
    public let descriptor: Int32
    private let isClosed = Atomic<Bool>(false)

    /// socket(2): a new, unconnected TCP socket for IPv4 (`AF_INET`) or IPv6 (`AF_INET6`).
    public convenience init(family: Int32) throws {
        self.init(descriptor: try Syscall.socket(family: family))
    }

    /// Takes ownership of a descriptor the kernel gave us (from accept(), say).
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        if !isClosed.load(ordering: .relaxed) { try? Syscall.close(descriptor) }
    }

    public var description: String { "fd \(descriptor)" }

    // MARK: - Server side

    /// bind(2) to an address; port 0 asks the kernel for any free port (see `localAddress`).
    public func bind(to address: SocketAddress) throws {
        try Syscall.bind(descriptor, to: address)
    }

    /// listen(2): from now on the kernel completes handshakes on its own and queues up to
    /// `backlog` of them for accept().
    public func listen(backlog: Int32) throws {
        try Syscall.listen(descriptor, backlog: backlog)
    }

    /// accept(2): the next completed connection, as a new socket, and who is on the other end.
    public func accept() throws -> (socket: Socket, peer: SocketAddress?) {
        let (fd, peer) = try Syscall.accept(descriptor)
        return (Socket(descriptor: fd), peer)
    }

    /// accept(2) on a non-blocking listener: nil when no connection is waiting (EAGAIN).
    public func acceptIfReady() throws -> (socket: Socket, peer: SocketAddress?)? {
        try Syscall.unlessWouldBlock { try accept() }
    }

    // MARK: - Client side

    /// connect(2): the three-way handshake. Returns when the connection is established.
    public func connect(to address: SocketAddress) throws {
        try Syscall.connect(descriptor, to: address)
    }

    // MARK: - Data

    /// One send(2): returns how many bytes the kernel took, possibly fewer than given.
    public func send(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        try Syscall.send(descriptor, bytes)
    }

    /// send(2) on a non-blocking socket: nil when the send buffer is full (EAGAIN).
    public func sendIfReady(_ bytes: UnsafeRawBufferPointer) throws -> Int? {
        try Syscall.unlessWouldBlock { try send(bytes) }
    }

    /// Sends every byte, looping over partial writes: Python's `sendall`, Stevens' `writen`.
    ///
    ///     while (nleft > 0) {                       // while sent < count
    ///         nwritten = write(fd, ptr, nleft);     //   n = send(...)
    ///         nleft -= nwritten; ptr += nwritten;   //   sent += n
    ///     }
    public func sendAll(_ bytes: UnsafeRawBufferPointer) throws {
        var sent = 0
        while sent < bytes.count {
            sent += try Syscall.send(descriptor, UnsafeRawBufferPointer(rebasing: bytes[sent...]))
        }
    }

    /// Sends every byte of an array or string's UTF-8.
    public func sendAll(_ bytes: some Collection<UInt8>) throws {
        let array = Array(bytes)
        try array.withUnsafeBytes { try sendAll($0) }
    }

    /// One recv(2) into caller-owned memory; returns the byte count, 0 at end of stream.
    public func recv(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try Syscall.recv(descriptor, into: buffer)
    }

    /// recv(2) on a non-blocking socket: nil when nothing has arrived yet (EAGAIN); 0 at end of
    /// stream, as for `recv`.
    public func recvIfReady(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try Syscall.unlessWouldBlock { try recv(into: buffer) }
    }

    /// One recv(2) of at most `maxBytes`, like Python's `sock.recv(1024)`; empty at end of stream.
    public func recv(maxBytes: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let count = try bytes.withUnsafeMutableBytes { try Syscall.recv(descriptor, into: $0) }
        bytes.removeLast(maxBytes - count)
        return bytes
    }

    // MARK: - Ending

    /// shutdown(2) SHUT_WR: sends FIN but keeps reading; the peer's recv() returns 0.
    public func shutdownWrite() throws {
        try Syscall.shutdown(descriptor, how: Int32(SHUT_WR))
    }

    /// shutdown(2) with SHUT_RDWR: ends both directions now, waking any thread blocked in recv()
    /// or send() on this socket (it returns 0 or EPIPE), while the descriptor stays open.
    public func shutdownBoth() throws {
        try Syscall.shutdown(descriptor, how: Int32(SHUT_RDWR))
    }

    /// shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.
    public func shutdown(how: Int32) throws {
        try Syscall.shutdown(descriptor, how: how)
    }

    /// close(2), once. Later calls, from any thread, do nothing.
    public func close() throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try Syscall.close(descriptor)
    }

    // MARK: - Options (setsockopt(2))

    /// SO_REUSEADDR: lets a restarted server bind its port while old connections sit in TIME_WAIT.
    public func setReuseAddress(_ on: Bool = true) throws {
        try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_REUSEADDR,
                               name: "SO_REUSEADDR", value: on ? 1 : 0)
    }

    /// TCP_NODELAY: turns off Nagle's algorithm, so small writes leave at once instead of
    /// waiting for the previous segment's ACK. Matters for ping-pong protocols.
    public func setNoDelay(_ on: Bool = true) throws {
        try Syscall.setsockopt(descriptor, level: Int32(IPPROTO_TCP), option: TCP_NODELAY,
                               name: "TCP_NODELAY", value: on ? 1 : 0)
    }

    /// IPV6_V6ONLY off: an IPv6 socket bound to `::` also takes IPv4 clients (as ::ffff:a.b.c.d).
    public func setIPv6Only(_ on: Bool) throws {
        try Syscall.setsockopt(descriptor, level: Int32(IPPROTO_IPV6), option: IPV6_V6ONLY,
                               name: "IPV6_V6ONLY", value: on ? 1 : 0)
    }

    /// SO_LINGER: with `seconds` 0, close() discards unsent data and sends RST instead of FIN
    /// (the abortive close); nil restores the normal graceful close.
    public func setLinger(seconds: Int?) throws {
        let value = linger(l_onoff: seconds == nil ? 0 : 1, l_linger: Int32(seconds ?? 0))
        try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_LINGER, name: "SO_LINGER",
                               value: value, shown: seconds.map { "on, \($0)s" } ?? "off")
    }

    /// SO_RCVTIMEO: a blocking recv() gives up with EAGAIN after this long (nil: wait forever).
    public func setReceiveTimeout(seconds: Double?) throws {
        try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_RCVTIMEO, name: "SO_RCVTIMEO",
                               value: Socket.timeval(seconds), shown: seconds.map { "\($0)s" } ?? "off")
    }

    /// SO_SNDTIMEO: a blocking send() gives up with EAGAIN after this long (nil: wait forever).
    public func setSendTimeout(seconds: Double?) throws {
        try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_SNDTIMEO, name: "SO_SNDTIMEO",
                               value: Socket.timeval(seconds), shown: seconds.map { "\($0)s" } ?? "off")
    }

    /// SO_RCVBUF / SO_SNDBUF: the kernel's buffer sizes for this socket (the kernel doubles the value).
    public func setBufferSizes(receive: Int32? = nil, send: Int32? = nil) throws {
        if let receive {
            try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_RCVBUF, name: "SO_RCVBUF", value: receive)
        }
        if let send {
            try Syscall.setsockopt(descriptor, level: SOL_SOCKET, option: SO_SNDBUF, name: "SO_SNDBUF", value: send)
        }
    }

    /// O_NONBLOCK via fcntl(2): calls return EAGAIN instead of waiting (for poll() loops).
    public func setNonBlocking(_ on: Bool = true) throws {
        try Syscall.setNonBlocking(descriptor, on)
    }

    /// SO_ERROR: the pending error of the socket, read (and cleared) after a non-blocking connect().
    public func pendingError() throws -> Errno? {
        let value = try Syscall.getsockopt(descriptor, level: SOL_SOCKET, option: SO_ERROR, name: "SO_ERROR")
        return value == 0 ? nil : Errno(rawValue: value)
    }

    // MARK: - Addresses

    /// getsockname(2): our end. After binding port 0, this holds the port the kernel chose.
    public var localAddress: SocketAddress? { (try? Syscall.getsockname(descriptor)) ?? nil }

    /// getpeername(2): the other end of a connected socket.
    public var peerAddress: SocketAddress? { (try? Syscall.getpeername(descriptor)) ?? nil }

    private static func timeval(_ seconds: Double?) -> Glibc.timeval {
        guard let seconds, seconds > 0 else { return Glibc.timeval(tv_sec: 0, tv_usec: 0) }
        let whole = Int(seconds)
        return Glibc.timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }
}

extension Socket {
    /// The server's opening moves in one call: resolve `host`, then for the first address that works
    /// socket() → setsockopt(SO_REUSEADDR) → bind() → listen(). `host` "::" listens dual-stack.
    public static func listening(host: String, port: Int, backlog: Int32) throws -> Socket {
        let addresses = try SocketAddress.resolve(host: host, port: port)
        var lastError: Error = SocketError(call: "getaddrinfo", codeName: "EAI_NONAME", reason: "no address for \(host)")
        for address in addresses {
            do {
                let socket = try Socket(family: address.family)
                try socket.setReuseAddress()
                if address.family == AF_INET6 && address.isWildcard { try socket.setIPv6Only(false) }
                try socket.bind(to: address)
                try socket.listen(backlog: backlog)
                return socket
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The client's opening moves: resolve `host`, then socket() → connect() to each address in
    /// turn until one answers (as Python's `socket.create_connection` does).
    ///
    /// `timeout` bounds each connect() with SO_SNDTIMEO (Linux applies it to connect()), instead
    /// of the kernel's SYN retries (about 2 minutes; forever, in effect, while a server's accept
    /// queue stays full). When it expires Linux reports EINPROGRESS; we report ETIMEDOUT, what
    /// the kernel's own retries end with. The timeout is cleared once connected.
    public static func connected(host: String, port: Int, timeout: Double? = nil) throws -> Socket {
        let addresses = try SocketAddress.resolve(host: host, port: port)
        var lastError: Error = SocketError(call: "getaddrinfo", codeName: "EAI_NONAME", reason: "no address for \(host)")
        for address in addresses {
            do {
                let socket = try Socket(family: address.family)
                if let timeout { try socket.setSendTimeout(seconds: timeout) }
                do {
                    try socket.connect(to: address)
                } catch let error as SocketError where timeout != nil && error.errno == .inProgress {
                    throw SocketError(call: "connect", errno: .timedOut)
                }
                if timeout != nil { try socket.setSendTimeout(seconds: nil) }
                return socket
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}
