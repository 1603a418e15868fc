@preconcurrency import Glibc
import SocketCore

/// What every mode does right after accept(2), and which accept() failures a server survives.
enum Accepting {
    /// The accept step of iterative, threads and select: sleeps `--accept-delay`, then accept(2)
    /// until a client comes, reporting and skipping the failures a server survives (see
    /// `isTransient`). Returns the client, ready to serve, and its address as printed in the
    /// lines. On a non-blocking listener (select) an empty queue returns nil.
    static func next(from listener: Socket, settings: EchoSettings) throws -> (client: Socket, peer: String)? {
        while true {
            settings.pauseBeforeAccept()
            do {
                guard let (client, address) = try listener.acceptIfReady() else { return nil }
                let peer = prepare(client, peer: address)
                settings.log.connected(peer)
                return (client, peer)
            } catch where isTransient(error) {
                settings.log.problem("\(error)")
                if isShortage(error) { Syscall.sleep(seconds: 0.1) }   // out of descriptors: don't spin
            }
        }
    }

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
