import SocketCore

/// The lines the classic echo lesson prints, one per event of a connection, each naming the peer
/// so that lines from several clients (threads and poll modes) can be told apart:
///
///     server Connected by 127.0.0.1:43994
///     server Recv Data: b'hello' from 127.0.0.1:43994
///     server Send Data: b'hello' to 127.0.0.1:43994
///     server Recv Over from 127.0.0.1:43994
///
/// With `--quiet` only problems are printed (on stderr), never the data lines.
struct EchoLog: Sendable {
    let quiet: Bool

    /// accept(2) returned a new connection.
    func connected(_ peer: String) {
        if !quiet { Console.line("server Connected by \(peer)") }
    }

    /// recv(2) returned bytes.
    func received(_ bytes: UnsafeRawBufferPointer, from peer: String) {
        if !quiet { Console.line("server Recv Data: \(Console.bytesLiteral(bytes)) from \(peer)") }
    }

    /// send(2) took bytes (all of them, for the blocking modes).
    func sent(_ bytes: UnsafeRawBufferPointer, to peer: String) {
        if !quiet { Console.line("server Send Data: \(Console.bytesLiteral(bytes)) to \(peer)") }
    }

    /// recv(2) returned 0: the client sent FIN and everything before it has been echoed.
    func over(_ peer: String) {
        if !quiet { Console.line("server Recv Over from \(peer)") }
    }

    /// The connection failed (the client reset it, say): the server closes it and goes on.
    func failed(_ peer: String, _ error: Error) {
        Console.error("echo-server: connection from \(peer) ended: \(error)")
    }

    /// A problem of the server itself that it survives (accept() out of descriptors, say).
    func problem(_ text: String) {
        Console.error("echo-server: \(text)")
    }
}
