@preconcurrency import Glibc
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
            settings.pauseBeforeAccept()
            let client: Socket, address: SocketAddress?
            do {
                (client, address) = try listener.accept()
            } catch where Accepting.isTransient(error) {
                settings.log.problem("\(error)")
                if Accepting.isShortage(error) { usleep(100_000) }
                continue
            }
            let peer = Accepting.prepare(client, peer: address)
            settings.log.connected(peer)
            BlockingEcho.serve(client, peer: peer, settings: settings)
        }
    }
}
