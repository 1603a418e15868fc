import SocketCore
import Synchronization

/// One accepted connection in the epoll engine, and the handler serving it.
///
/// Exactly one party holds it at a time: the event loop while it waits for bytes (in
/// `ParkedConnections`), the worker queue, or one worker while its requests are served. It is
/// passed between those threads, so the handler, which is not thread-safe, is kept behind a
/// mutex. Nobody else ever waits for the lock: it only makes the hand-over visible to the
/// compiler (and to the memory model).
final class EpollConnection: Sendable {
    let socket: Socket
    private let handler: Mutex<RequestHandler>

    init(socket: Socket, handler: sending RequestHandler) {
        self.socket = socket
        self.handler = Mutex(handler)
    }

    var descriptor: Int32 { socket.descriptor }

    /// Runs `body` with the handler.
    func withHandler<Result: Sendable>(_ body: (RequestHandler) -> Result) -> Result {
        handler.withLock { body($0) }
    }

    /// What reading without waiting found (see `receive()`).
    enum Arrival {
        /// A request head is complete (or the client closed after sending part of one): serve it.
        case request
        /// Part of a head, or nothing yet: keep waiting.
        case partial(started: Bool)
        /// The client closed without sending anything, or the connection failed.
        case closed
    }

    /// Reads what the client has sent, without blocking, and says whether a request is ready.
    func receive() -> Arrival {
        withHandler { handler in
            let rfile = handler.rfile
            do {
                let count = try rfile.receiveAvailable()
                if rfile.holdsRequestHead { return .request }
                if count == 0 { return rfile.bufferedCount > 0 ? .request : .closed }   // the handler answers what came
                return .partial(started: rfile.bufferedCount > 0)
            } catch {
                return .closed
            }
        }
    }
}
