import SocketCore

/// The classic loop: accept one client, echo until it closes, then accept the next.
///
/// While one client is being served, the others wait: their handshakes complete in the kernel
/// (up to the listen backlog) but nobody calls accept() for them. The lessons start here.
struct IterativeServer {
    let listener: Socket
    let settings: EchoSettings

    func run() throws {
        while true {
            guard let (client, peer) = try Accepting.next(from: listener, settings: settings) else { continue }
            BlockingEcho.serve(client, peer: peer, settings: settings)
        }
    }
}
