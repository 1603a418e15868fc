@preconcurrency import Glibc
import SocketCore

/// What every mode does right after accept(2), and which accept() failures a server survives.
enum Accepting {
    /// TCP_NODELAY on each client: an echo goes back at once instead of waiting (Nagle's
    /// algorithm) for the ACK of the previous segment. Returns the peer as printed in the lines.
    static func prepare(_ client: Socket, peer: SocketAddress?) -> String {
        try? client.setNoDelay()
        return peer.map { "\($0)" } ?? "unknown peer"
    }

    /// accept(2) errors that concern one connection or a passing shortage, not the listening
    /// socket: the server reports them and keeps accepting (as nginx and Go's net/http do).
    /// ECONNABORTED: the client reset before we accepted. EMFILE/ENFILE: out of descriptors;
    /// ENOBUFS/ENOMEM: out of memory; EPROTO/EPERM: a connection the kernel or a firewall refused.
    static func isTransient(_ error: Error) -> Bool {
        guard let errno = (error as? SocketError)?.errno?.rawValue else { return false }
        return [ECONNABORTED, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPROTO, EPERM, EINTR].contains(errno)
    }

    /// True when accepting again at once would fail the same way (out of descriptors or memory):
    /// the server then waits a little instead of spinning.
    static func isShortage(_ error: Error) -> Bool {
        guard let errno = (error as? SocketError)?.errno?.rawValue else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno)
    }
}
