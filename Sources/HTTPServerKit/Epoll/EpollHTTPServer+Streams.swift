@preconcurrency import Glibc
import CLinux
import SocketCore

/// Response streams (`ResponseStream`) in the epoll engine: the socket is made non-blocking and
/// watched for EPOLLOUT whenever bytes are pushed; a worker writes what the socket takes and
/// keeps the rest in the stream's buffer. No thread waits on an open stream.
extension EpollHTTPServer {
    func startStreaming(_ connection: EpollConnection, _ stream: ResponseStream) {
        let fd = connection.descriptor
        guard (try? connection.socket.setNonBlocking(true)) != nil else {
            endStream(connection, stream)
            return
        }
        streams.withLock { $0[fd] = connection }
        // Runs under the stream's lock, which endStream also holds to close: never a stale fd.
        // shutdown(2) makes the socket report EPOLLHUP, so the worker ends even a stream whose
        // client reads nothing (its EPOLLOUT would never come).
        stream.onWake({ [epoll] in
            try? epoll.modify(fd, events: EPOLLOUT.rawValue | EPOLLONESHOT.rawValue, data: UInt64(fd))
        }, hangUp: { [socket = connection.socket] in
            try? socket.shutdownBoth()
        })
    }

    /// Whether `fd` is an open stream's socket (its reports are EPOLLOUT, or EPOLLHUP after abort()).
    func isStream(_ fd: Int32) -> Bool {
        streams.withLock { $0[fd] != nil }
    }

    /// Response streams open now (event streams, and bodies still being made).
    public var openStreams: Int {
        streams.withLock { $0.count }
    }

    /// Response streams ended since the start: a server that sees it stop moving knows a burst
    /// of streams is over.
    public var endedStreams: Int {
        streamsEnded.load(ordering: .relaxed)
    }

    /// The socket of a stream can take bytes: send what is pending, without waiting. One worker
    /// at a time per stream (a push may wake a second one meanwhile): the bytes keep their order.
    func writable(_ fd: Int32) {
        guard let connection = streams.withLock({ $0[fd] }),
              let stream = connection.withHandler({ $0.responseStream }) else { return }
        stream.asWriter { write(connection, stream) }
    }

    private func write(_ connection: EpollConnection, _ stream: ResponseStream) {
        let fd = connection.descriptor
        // The writer before us may have ended the stream (and closed its descriptor) meanwhile.
        guard streams.withLock({ $0[fd] }) === connection else { return }
        // A source's pieces follow each other while the socket takes them, up to a turn's worth:
        // then the stream waits in epoll again, behind the other ready sockets (the page).
        var turn = 0
        while true {
            let (bytes, finished) = stream.takePending()
            if finished && bytes.isEmpty {
                endStream(connection, stream)
                return
            }
            var sent = 0
            while sent < bytes.count {
                do {
                    guard let count = try bytes[sent...].withUnsafeBytes({ try connection.socket.sendIfReady($0) }) else { break }
                    sent += count
                } catch {
                    endStream(connection, stream)   // the client is gone (EPIPE, ECONNRESET)
                    return
                }
            }
            turn += sent
            if sent < bytes.count {
                stream.putBack(bytes[sent...])
            } else if finished {
                endStream(connection, stream)
                return
            } else if stream.source != nil && turn < Self.sourceTurnBytes {
                continue
            }
            if sent < bytes.count || stream.source != nil {
                try? epoll.modify(fd, events: EPOLLOUT.rawValue | EPOLLONESHOT.rawValue, data: UInt64(fd))
            }
            return
        }
    }

    /// Bytes of a source-fed stream written in one worker's turn before it yields to other sockets.
    static let sourceTurnBytes = 256 * 1024

    private func endStream(_ connection: EpollConnection, _ stream: ResponseStream) {
        _ = streams.withLock { $0.removeValue(forKey: connection.descriptor) }
        streamsEnded.add(1, ordering: .relaxed)
        stream.close {
            try? connection.socket.shutdownWrite()
            try? connection.socket.close()
        }
        closed()
    }
}
