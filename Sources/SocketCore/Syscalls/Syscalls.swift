@preconcurrency import Glibc

/// Every C socket call of the project, each wrapped once.
///
/// A wrapper does three things and nothing else:
/// 1. makes the call, again if a signal interrupted it (`EINTR`), except close(): see `close`;
/// 2. turns `-1` into a `SocketError` that names the call and errno
///    (`connect() failed: ECONNREFUSED (Connection refused)`);
/// 3. reports the call to `Trace` when `--trace` is on: `connect(fd 3, 127.0.0.1:5000) -> 0`.
///
/// The rest of the project talks to the kernel only through here, so this file is the map
/// from the lessons' vocabulary (socket, bind, listen, accept, connect, recv, send, close) to C.
public enum Syscall {

    // MARK: - Creating and naming a socket

    /// socket(2): asks the kernel for a new endpoint and gets a file descriptor back.
    /// `SOCK_STREAM` means TCP; `SOCK_CLOEXEC` keeps it out of programs we might exec.
    public static func socket(family: Int32) throws -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try call("socket", "\(familyName(family)), SOCK_STREAM", result: { "fd \($0)" }) {
            Glibc.socket(family, type, 0)
        }
    }

    /// setsockopt(2) with an `int` value: SO_REUSEADDR, TCP_NODELAY, IPV6_V6ONLY, buffer sizes.
    public static func setsockopt(_ fd: Int32, level: Int32, option: Int32, name: String, value: Int32) throws {
        var value = value
        _ = try call("setsockopt", "fd \(fd), \(name), \(value)") {
            Glibc.setsockopt(fd, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// setsockopt(2) with a struct value (`linger`, `timeval`).
    public static func setsockopt<T: BitwiseCopyable>(_ fd: Int32, level: Int32, option: Int32, name: String,
                                                      value: T, shown: String) throws {
        _ = try call("setsockopt", "fd \(fd), \(name), \(shown)") {
            withUnsafeBytes(of: value) {
                Glibc.setsockopt(fd, level, option, $0.baseAddress, socklen_t(MemoryLayout<T>.size))
            }
        }
    }

    /// getsockopt(2) with an `int` value (SO_ERROR, SO_RCVBUF, ...).
    public static func getsockopt(_ fd: Int32, level: Int32, option: Int32, name: String) throws -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try call("getsockopt", "fd \(fd), \(name)") {
            Glibc.getsockopt(fd, level, option, &value, &length)
        }
        return value
    }

    /// bind(2): gives the socket its local address; port 0 lets the kernel pick a free one.
    public static func bind(_ fd: Int32, to address: SocketAddress) throws {
        _ = try call("bind", "fd \(fd), \(address)") {
            address.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
    }

    /// listen(2): turns the socket into a listening one. From now on the kernel answers SYNs
    /// itself and queues finished handshakes, up to `backlog`, for accept() to collect.
    public static func listen(_ fd: Int32, backlog: Int32) throws {
        _ = try call("listen", "fd \(fd), backlog \(backlog)") { Glibc.listen(fd, backlog) }
    }

    // MARK: - Making connections

    /// accept(2): takes the next connection whose handshake the kernel has already completed,
    /// blocking while the queue is empty. Returns the new descriptor and the peer's address.
    public static func accept(_ fd: Int32) throws -> (fd: Int32, peer: SocketAddress?) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = try call("accept", "fd \(fd)", result: { (client: Int32) in
            "fd \(client) from " + (SocketAddress(storage: storage).map { "\($0)" } ?? "?")
        }) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.accept(fd, $0, &length)
                }
            }
        }
        return (client, SocketAddress(storage: storage))
    }

    /// connect(2): sends the SYN and, on a blocking socket, waits for SYN-ACK; returns once our
    /// ACK is on its way: the three-way handshake in one call.
    ///
    /// Not retried on EINTR: the handshake goes on in the kernel, and a second connect() would
    /// fail with EALREADY. An interrupted connect() is reported like any failure.
    public static func connect(_ fd: Int32, to address: SocketAddress) throws {
        _ = try call("connect", "fd \(fd), \(address)", retry: false) {
            address.withSockAddr { Glibc.connect(fd, $0, $1) }
        }
    }

    // MARK: - Moving bytes

    /// send(2): copies bytes into the kernel's send buffer and returns how many it took, which may
    /// be fewer than offered (a partial write). `MSG_NOSIGNAL`: writing to a connection the peer
    /// has closed gives EPIPE instead of the SIGPIPE signal, whose default action kills the process.
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try call("send", "fd \(fd), \(bytes.count) bytes", result: { "\($0)" }) {
            Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        }
    }

    /// recv(2): copies up to `buffer.count` bytes that have arrived; blocks while none have.
    /// Returns 0 when the peer has sent FIN and everything before it has been read: end of stream.
    public static func recv(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try call("recv", "fd \(fd), \(buffer.count)", result: { $0 == 0 ? "0 (peer closed)" : "\($0)" }) {
            Glibc.recv(fd, buffer.baseAddress, buffer.count, 0)
        }
    }

    /// sendfile(2): sends `count` bytes of an open file straight from the page cache to the socket,
    /// with no copy through our memory. Returns how many went (a partial write, like send()).
    public static func sendfile(_ socket: Int32, from file: Int32, offset: inout Int, count: Int) throws -> Int {
        var position = off_t(offset)
        let sent = try call("sendfile", "fd \(socket), fd \(file), offset \(offset), \(count)",
                            result: { "\($0)" }) {
            Glibc.sendfile(socket, file, &position, count)
        }
        offset = Int(position)
        return sent
    }

    // MARK: - Ending connections

    /// shutdown(2): ends one direction. `SHUT_WR` sends our FIN (the peer's recv() returns 0)
    /// while we can still read what the peer sends: the half-close.
    public static func shutdown(_ fd: Int32, how: Int32) throws {
        let name = how == Int32(SHUT_WR) ? "SHUT_WR" : how == Int32(SHUT_RD) ? "SHUT_RD" : "SHUT_RDWR"
        _ = try call("shutdown", "fd \(fd), \(name)") { Glibc.shutdown(fd, how) }
    }

    /// close(2): gives the descriptor back. On a connected socket the kernel then sends FIN
    /// (or RST, if unread data is left or SO_LINGER is 0).
    ///
    /// Never retried on EINTR: Linux has already freed the descriptor number even then, and a
    /// retry could close a descriptor another thread just received.
    public static func close(_ fd: Int32) throws {
        _ = try call("close", "fd \(fd)", retry: false) { Glibc.close(fd) }
    }

    // MARK: - Asking about a socket

    /// getsockname(2): the local address, e.g. the real port after binding port 0.
    public static func getsockname(_ fd: Int32) throws -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try call("getsockname", "fd \(fd)", traced: false) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd, $0, &length) }
            }
        }
        return SocketAddress(storage: storage)
    }

    /// getpeername(2): the address of the other end of a connected socket.
    public static func getpeername(_ fd: Int32) throws -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try call("getpeername", "fd \(fd)", traced: false) {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getpeername(fd, $0, &length) }
            }
        }
        return SocketAddress(storage: storage)
    }

    /// fcntl(2) F_SETFL O_NONBLOCK: from now on recv/send/accept return EAGAIN instead of
    /// blocking, which is what a poll() loop needs.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool) throws {
        let flags = try call("fcntl", "fd \(fd), F_GETFL", traced: false) { Glibc.fcntl(fd, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try call("fcntl", "fd \(fd), F_SETFL, \(on ? "O_NONBLOCK" : "blocking")") {
            Glibc.fcntl(fd, F_SETFL, wanted)
        }
    }

    // MARK: - Waiting on many sockets

    /// poll(2): sleeps until one of the descriptors is ready (readable: data, a FIN, or a
    /// connection to accept; writable: room in the send buffer) or `timeout` ms pass (-1: forever).
    /// Returns how many entries have `revents` set.
    public static func poll(_ fds: inout [pollfd], timeout: Int32, traced: Bool = true) throws -> Int {
        let count = fds.count
        return Int(try fds.withUnsafeMutableBufferPointer { buffer in
            try call("poll", "\(count) fds, timeout \(timeout)", traced: traced, result: { "\($0) ready" }) {
                Glibc.poll(buffer.baseAddress, nfds_t(count), timeout)
            }
        })
    }

    // MARK: - Names

    /// getaddrinfo(3): host name to addresses (DNS, /etc/hosts). Its errors are EAI_* codes.
    public static func getaddrinfo(host: String, port: Int) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let service = String(port)
        let span = Trace.begin()
        let status = Glibc.getaddrinfo(host, service, &hints, &list)
        let returned = span?.stop()
        guard status == 0 else {
            let error = SocketError(call: "getaddrinfo", gaiCode: status)
            returned?.emit("getaddrinfo(\"\(host)\", \(port)) -> \(error.codeName) (\(error.reason))")
            throw error
        }
        defer { freeaddrinfo(list) }
        let found = addresses(in: list)
        returned?.emit("getaddrinfo(\"\(host)\", \(port)) -> " + found.map(\.ip).joined(separator: ", "))
        return found
    }

    /// The distinct addresses of a getaddrinfo(3) answer, in its order.
    private static func addresses(in list: UnsafeMutablePointer<addrinfo>?) -> [SocketAddress] {
        var found: [SocketAddress] = []
        var entry = list
        while let info = entry {
            var storage = sockaddr_storage()
            if let address = info.pointee.ai_addr {
                withUnsafeMutableBytes(of: &storage) { raw in
                    raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(info.pointee.ai_addrlen)))
                }
                if let parsed = SocketAddress(storage: storage), !found.contains(parsed) { found.append(parsed) }
            }
            entry = info.pointee.ai_next
        }
        return found
    }

    // MARK: - The one wrapper

    /// Makes a C call that returns -1 and sets errno on failure; retries EINTR when `retry`;
    /// traces `name(args) -> result <duration>` or `name(args) -> ERRNO (text) <duration>`,
    /// stamped when the call started (see `Trace.Span`). Retries after EINTR stay inside the one
    /// span, as the program sees one call. Public so that the few non-socket calls other targets
    /// make (epoll, files) are wrapped the same way.
    @inline(__always)
    public static func call<T: BinaryInteger>(_ name: String, _ arguments: @autoclosure () -> String,
                                       retry: Bool = true, traced: Bool = true,
                                       result: (T) -> String = { "\($0)" },
                                       _ body: () -> T) throws -> T {
        let span = traced ? Trace.begin() : nil
        while true {
            let value = body()
            if value != -1 {
                span?.end("\(name)(\(arguments())) -> \(result(value))")
                return value
            }
            let error = Errno.current
            if error == .interrupted && retry { continue }
            span?.end("\(name)(\(arguments())) -> \(error)")
            throw SocketError(call: name, errno: error)
        }
    }

    static func familyName(_ family: Int32) -> String {
        switch family {
        case AF_INET: return "AF_INET"
        case AF_INET6: return "AF_INET6"
        default: return "family \(family)"
        }
    }
}
