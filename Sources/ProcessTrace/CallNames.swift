@preconcurrency import Glibc

/// The C names of the numbers a socket call takes: levels and options of setsockopt(2), MSG_*
/// flags, fcntl(2) commands, poll and epoll events, shutdown's `how`. One table each.
enum CallNames {
    static func family(_ value: Int32) -> String {
        switch value {
        case AF_INET: "AF_INET"
        case AF_INET6: "AF_INET6"
        case AF_UNIX: "AF_UNIX"
        case AF_NETLINK: "AF_NETLINK"
        case AF_PACKET: "AF_PACKET"
        default: "family \(value)"
        }
    }

    /// `SOCK_STREAM`, `SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK`.
    static func socketType(_ value: Int32) -> String {
        let base: String = switch value & 0xF {
        case 1: "SOCK_STREAM"
        case 2: "SOCK_DGRAM"
        case 3: "SOCK_RAW"
        case 5: "SOCK_SEQPACKET"
        default: "type \(value & 0xF)"
        }
        var parts = [base]
        if value & 0o2000000 != 0 { parts.append("SOCK_CLOEXEC") }
        if value & 0o4000 != 0 { parts.append("SOCK_NONBLOCK") }
        return parts.joined(separator: "|")
    }

    /// accept4(2)'s flags: `SOCK_CLOEXEC|SOCK_NONBLOCK`.
    static func acceptFlags(_ value: Int32) -> String {
        var parts: [String] = []
        if value & 0o2000000 != 0 { parts.append("SOCK_CLOEXEC") }
        if value & 0o4000 != 0 { parts.append("SOCK_NONBLOCK") }
        return parts.isEmpty ? "0x" + String(value, radix: 16) : parts.joined(separator: "|")
    }

    static let socketOptions: [Int32: String] = [
        1: "SO_DEBUG", 2: "SO_REUSEADDR", 3: "SO_TYPE", 4: "SO_ERROR", 5: "SO_DONTROUTE", 6: "SO_BROADCAST",
        7: "SO_SNDBUF", 8: "SO_RCVBUF", 9: "SO_KEEPALIVE", 10: "SO_OOBINLINE", 12: "SO_PRIORITY",
        13: "SO_LINGER", 15: "SO_REUSEPORT", 16: "SO_PASSCRED", 17: "SO_PEERCRED", 18: "SO_RCVLOWAT",
        19: "SO_SNDLOWAT", 20: "SO_RCVTIMEO", 21: "SO_SNDTIMEO", 30: "SO_ACCEPTCONN", 32: "SO_SNDBUFFORCE",
        33: "SO_RCVBUFFORCE", 38: "SO_PROTOCOL", 39: "SO_DOMAIN", 46: "SO_BUSY_POLL", 49: "SO_INCOMING_CPU",
        60: "SO_ZEROCOPY", 66: "SO_RCVTIMEO", 67: "SO_SNDTIMEO",
    ]
    static let tcpOptions: [Int32: String] = [
        1: "TCP_NODELAY", 2: "TCP_MAXSEG", 3: "TCP_CORK", 4: "TCP_KEEPIDLE", 5: "TCP_KEEPINTVL",
        6: "TCP_KEEPCNT", 7: "TCP_SYNCNT", 8: "TCP_LINGER2", 9: "TCP_DEFER_ACCEPT", 10: "TCP_WINDOW_CLAMP",
        11: "TCP_INFO", 12: "TCP_QUICKACK", 13: "TCP_CONGESTION", 18: "TCP_USER_TIMEOUT",
        23: "TCP_FASTOPEN", 25: "TCP_NOTSENT_LOWAT",
    ]
    static let ipOptions: [Int32: String] = [1: "IP_TOS", 2: "IP_TTL", 10: "IP_MTU_DISCOVER", 15: "IP_FREEBIND"]
    static let ipv6Options: [Int32: String] = [26: "IPV6_V6ONLY", 67: "IPV6_TCLASS"]

    /// `SO_REUSEADDR` (SOL_SOCKET), `TCP_NODELAY` (IPPROTO_TCP), or the numbers when unknown.
    static func option(level: Int32, name: Int32) -> String {
        let table: [Int32: String]
        let levelName: String
        switch level {
        case 1: (table, levelName) = (socketOptions, "SOL_SOCKET")
        case 6: (table, levelName) = (tcpOptions, "IPPROTO_TCP")
        case 0: (table, levelName) = (ipOptions, "IPPROTO_IP")
        case 41: (table, levelName) = (ipv6Options, "IPPROTO_IPV6")
        default: return "level \(level), option \(name)"
        }
        return table[name] ?? "\(levelName), option \(name)"
    }

    static let messageFlags: [(Int32, String)] = [
        (0x1, "MSG_OOB"), (0x2, "MSG_PEEK"), (0x8, "MSG_CTRUNC"), (0x20, "MSG_TRUNC"), (0x40, "MSG_DONTWAIT"),
        (0x80, "MSG_EOR"), (0x100, "MSG_WAITALL"), (0x4000, "MSG_NOSIGNAL"), (0x8000, "MSG_MORE"),
        (0x40000000, "MSG_CMSG_CLOEXEC"),
    ]

    /// `, MSG_DONTWAIT|MSG_NOSIGNAL`, or nothing for 0.
    static func flagsSuffix(_ flags: Int32) -> String {
        guard flags != 0 else { return "" }
        var names = messageFlags.filter { flags & $0.0 != 0 }.map(\.1)
        let rest = messageFlags.reduce(flags) { $0 & ~$1.0 }
        if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
        return ", " + names.joined(separator: "|")
    }

    static func shutdownHow(_ how: Int32) -> String {
        switch how { case 0: "SHUT_RD"; case 1: "SHUT_WR"; case 2: "SHUT_RDWR"; default: "how \(how)" }
    }

    static func fcntlCommand(_ command: Int32) -> String {
        switch command {
        case 0: "F_DUPFD"; case 1: "F_GETFD"; case 2: "F_SETFD"; case 3: "F_GETFL"; case 4: "F_SETFL"
        case 1030: "F_DUPFD_CLOEXEC"
        default: "cmd \(command)"
        }
    }

    /// File status flags as F_SETFL sets them: `O_RDWR|O_NONBLOCK`.
    static func fileFlags(_ flags: Int32) -> String {
        var names = [flags & 3 == 0 ? "O_RDONLY" : flags & 3 == 1 ? "O_WRONLY" : "O_RDWR"]
        for (bit, name) in [(0o4000 as Int32, "O_NONBLOCK"), (0o2000, "O_APPEND"), (0o20000, "O_ASYNC")] where flags & bit != 0 {
            names.append(name)
        }
        return names.joined(separator: "|")
    }

    static func pollEvents(_ events: Int32) -> String {
        let names: [(Int32, String)] = [(0x1, "POLLIN"), (0x2, "POLLPRI"), (0x4, "POLLOUT"), (0x8, "POLLERR"),
                                        (0x10, "POLLHUP"), (0x20, "POLLNVAL"), (0x2000, "POLLRDHUP")]
        let set = names.filter { events & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }

    static func epollEvents(_ events: UInt32) -> String {
        let names: [(UInt32, String)] = [(0x1, "EPOLLIN"), (0x4, "EPOLLOUT"), (0x8, "EPOLLERR"), (0x10, "EPOLLHUP"),
                                         (0x2000, "EPOLLRDHUP"), (1 << 28, "EPOLLEXCLUSIVE"), (1 << 30, "EPOLLONESHOT"),
                                         (1 << 31, "EPOLLET")]
        let set = names.filter { events & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }

    static func epollOperation(_ operation: Int32) -> String {
        switch operation { case 1: "EPOLL_CTL_ADD"; case 2: "EPOLL_CTL_DEL"; case 3: "EPOLL_CTL_MOD"; default: "op \(operation)" }
    }

    /// The kernel's restart codes, seen at an exit stop when a signal interrupted a blocked call
    /// (the program never sees them: the call is made again, or returns EINTR).
    static let restartCodes: [Int64: String] = [
        512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK",
    ]
}
