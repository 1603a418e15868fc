@preconcurrency import Glibc

/// An IPv4 or IPv6 address and a TCP port: what bind(), connect() and accept() speak in.
///
/// C passes addresses as a `struct sockaddr *` plus a length; the real struct is `sockaddr_in`
/// (IPv4) or `sockaddr_in6` (IPv6), with the port and address in network byte order (big-endian).
/// `withSockAddr` hands the C view to a system call.
public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
    case ipv4(sockaddr_in)
    case ipv6(sockaddr_in6)

    /// An address from a numeric literal: `"127.0.0.1"`, `"::1"`, `"0.0.0.0"`, `"::"`.
    /// Returns nil when `ip` is not a literal (use `resolve` for host names).
    public init?(ip: String, port: Int) {
        guard (0...65535).contains(port) else { return nil }
        let bare = ip.hasPrefix("[") && ip.hasSuffix("]") ? String(ip.dropFirst().dropLast()) : ip
        guard let bytes = IPText.parse(bare) else { return nil }
        if bytes.count == 4 && bare == ip {
            var v4 = sockaddr_in()
            withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: bytes) }
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(port).bigEndian   // network byte order on the wire
            self = .ipv4(v4)
            return
        }
        if bytes.count == 16 {
            var v6 = sockaddr_in6()
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: bytes) }
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(port).bigEndian
            self = .ipv6(v6)
            return
        }
        return nil
    }

    /// Turns a host name or literal into addresses with getaddrinfo(3), as Python's
    /// `socket.getaddrinfo` does. Literals resolve without any lookup.
    public static func resolve(host: String, port: Int) throws -> [SocketAddress] {
        guard (0...65535).contains(port) else {
            throw SocketError(call: "getaddrinfo", codeName: "EAI_SERVICE",
                              reason: "port \(port) is not in 0...65535")
        }
        if let literal = SocketAddress(ip: host, port: port) { return [literal] }
        return try Syscall.getaddrinfo(host: host, port: port)
    }

    /// Reads an address that the kernel filled in (accept(), getsockname(), getpeername()).
    public init?(storage: sockaddr_storage) {
        var copy = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            self = .ipv4(withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in.self) })
        case AF_INET6:
            self = .ipv6(withUnsafeBytes(of: &copy) { $0.load(as: sockaddr_in6.self) })
        default:
            return nil
        }
    }

    /// `AF_INET` or `AF_INET6`: the first argument socket() needs for this address.
    public var family: Int32 {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        }
    }

    /// The port in host byte order.
    public var port: Int {
        switch self {
        case .ipv4(let a): return Int(in_port_t(bigEndian: a.sin_port))
        case .ipv6(let a): return Int(in_port_t(bigEndian: a.sin6_port))
        }
    }

    /// The numeric address, as inet_ntop(3) writes it: `127.0.0.1`, `::1`.
    public var ip: String {
        switch self {
        case .ipv4(let a): return withUnsafeBytes(of: a.sin_addr) { IPText.format($0) }
        case .ipv6(let a): return withUnsafeBytes(of: a.sin6_addr) { IPText.format($0) }
        }
    }

    /// True for `0.0.0.0` and `::`: "every address of this machine".
    public var isWildcard: Bool { ip == "0.0.0.0" || ip == "::" }

    /// `127.0.0.1:5000` or `[::1]:5000`: brackets keep the v6 colons apart from the port's.
    public var description: String {
        switch self {
        case .ipv4: return "\(ip):\(port)"
        case .ipv6: return "[\(ip)]:\(port)"
        }
    }

    /// Lends the C view (`const struct sockaddr *`, `socklen_t`) to a system call.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch self {
        case .ipv4(var a):
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .ipv6(var a):
            return try withUnsafePointer(to: &a) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.ip == rhs.ip && lhs.port == rhs.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(ip)
        hasher.combine(port)
    }
}
