import Dispatch
import SocketCore

/// Python's `ThreadingHTTPServer` (`HTTPServer` with `ThreadingMixIn`): a thread per connection.
///
///     serveForever  accept() → a new thread runs handler.handle() → shutdown() → close()
///
/// A keep-alive client no longer holds everyone else, but each open connection holds a thread
/// (and its stack) for as long as it stays open, idle or not: a few thousand idle clients cost
/// a few thousand threads. `--max-connections` bounds them; further clients wait in the listen
/// backlog. `EpollHTTPServer` removes that cost.
public final class ThreadingHTTPServer: Sendable {
    /// The listening socket and the per-connection work, shared with the iterative server.
    public let server: HTTPServer
    /// Connections (threads) at once.
    public let maxConnections: Int
    private let slots: DispatchSemaphore

    public init(_ server: HTTPServer, maxConnections: Int) {
        self.server = server
        self.maxConnections = maxConnections
        slots = DispatchSemaphore(value: maxConnections)
    }

    /// Accepts forever; each connection is served on a thread of its own (Python's
    /// `process_request` in `ThreadingMixIn`, with `daemon_threads = True`).
    public func serveForever() {
        while true {
            slots.wait()
            guard let (client, address) = server.getRequest() else {
                slots.signal()
                continue
            }
            do {
                try Threads.detach { [server, slots] in
                    server.processRequest(client, clientAddress: address)
                    slots.signal()
                }
            } catch {
                Console.error("http-server: cannot start a thread for \(address): \(error)")
                try? client.close()
                slots.signal()
            }
        }
    }
}
