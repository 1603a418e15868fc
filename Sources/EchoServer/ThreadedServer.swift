import SocketCore

/// A thread per connection (Python's `ThreadingMixIn`): the main loop only accepts, and each
/// client gets a real thread that blocks in its own recv(), so a slow client stalls nobody else.
///
/// The price is a thread (and its stack) per client; the poll server serves them all from one.
struct ThreadedServer {
    let listener: Socket
    let settings: EchoSettings

    func run() throws {
        while true {
            guard let (client, peer) = try Accepting.next(from: listener, settings: settings) else { continue }
            let settings = self.settings
            do {
                try Threads.detach { BlockingEcho.serve(client, peer: peer, settings: settings) }
            } catch {
                // No thread to be had (EAGAIN): turn this client away, keep serving the others.
                settings.log.failed(peer, error)
                try? client.close()
            }
        }
    }
}
