@preconcurrency import Glibc
import SocketCore

/// A connected pair of real TCP sockets on 127.0.0.1 (or ::1): the listening socket, the client
/// end and the server end accept() returned. Every blocking call is bounded by a receive timeout.
struct LoopbackPair {
    let listener: Socket
    let client: Socket
    let server: Socket
    let peerSeenByAccept: SocketAddress?

    init(host: String = "127.0.0.1") throws {
        listener = try Socket.listening(host: host, port: 0, backlog: 4)
        guard let address = listener.localAddress else { throw SocketError(call: "getsockname", errno: Errno(rawValue: EINVAL)) }
        client = try Socket(family: address.family)
        try client.connect(to: address)
        (server, peerSeenByAccept) = try listener.accept()
        for socket in [client, server] { try socket.setReceiveTimeout(seconds: 10) }
    }
}
