import Synchronization

/// A response body that stays open after the handler returns, fed from any thread: the seam
/// for Server-Sent Events and other live views.
///
/// A handler sends its head, then calls `openResponseStream()` and keeps the stream; other
/// threads `push` bytes into it and `finish` it. The server writes what is pushed: the epoll
/// engine when the socket can take it (EPOLLOUT), so an open stream costs its buffer and no
/// thread; `iterative` and `threads` on the connection's own thread, which it holds until the
/// stream finishes (as Python's classes would). No timeout of the server closes an open stream:
/// the producer decides how long it lives (and sends keep-alive bytes if a proxy might not).
///
/// The body's framing on the wire:
/// - chunked (`Transfer-Encoding: chunked` in the head): each push is one chunk,
///   `<hex length>\r\n<bytes>\r\n`, and `finish` sends the last chunk `0\r\n\r\n`;
/// - otherwise close-delimited (HTTP/1.0's way): the bytes as they are, and the end of the body
///   is the server's FIN.
///
/// A push never waits for the client: the bytes wait in the stream's buffer. With a
/// `bufferLimit`, a client that stops reading is dropped once its buffer would pass the limit
/// (`abort()`), so a slow reader costs at most that much memory and never slows the producer.
///
/// A stream with a `source` (`ResponseSource`) is fed the other way: the server asks the source
/// for the next piece each time the buffer has been sent, so the body is made as fast as the
/// client reads it, and never more than one piece of it waits in memory.
public final class ResponseStream: Sendable {
    private struct State {
        var pending: [UInt8] = []
        /// Bytes the writer has taken for the socket so far.
        var taken = 0
        var finished = false
        var closed = false
        var aborted = false
        var wake: (@Sendable () -> Void)?
        var hangUp: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// Bytes the buffer may hold before the client is dropped.
    public let bufferLimit: Int
    /// Whether each push is sent as one chunk of a chunked body.
    public let chunked: Bool
    /// Held by the one worker writing this stream: a push re-arms EPOLLOUT while another worker
    /// may still be sending what it took, and two writers would reorder (or, one of them
    /// finishing, lose) the bytes.
    private let writer = Mutex(())
    /// Where the body comes from when nobody pushes it: asked for a piece whenever the buffer is empty.
    public let source: (any ResponseSource)?

    public init(bufferLimit: Int = .max, chunked: Bool = false, source: (any ResponseSource)? = nil) {
        self.bufferLimit = bufferLimit
        self.chunked = chunked
        self.source = source
    }

    /// Queues bytes to send; false once the connection is gone (stop producing then), or when
    /// the client fell `bufferLimit` behind and has just been dropped for it.
    @discardableResult
    public func push(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return !isClosed }
        let framed = chunked ? Self.chunk(bytes) : bytes
        let full: Bool = state.withLock { state in
            guard !state.closed, !state.finished else { return false }
            if state.pending.count + framed.count > bufferLimit { return true }
            // Bytes already pending have a wake-up under way (the writer takes them all at
            // once): only the first push after the buffer emptied costs a wake-up (epoll_ctl).
            let wasEmpty = state.pending.isEmpty
            state.pending += framed
            if wasEmpty { state.wake?() }
            return false
        }
        if full { abort() }
        return !full && !isClosed
    }

    /// Ends the body: the connection closes once the pending bytes are sent.
    public func finish() {
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            if chunked && !state.closed { state.pending += Array("0\r\n\r\n".utf8) }
            state.wake?()
        }
    }

    /// Drops the client now: what is pending is thrown away and the connection is shut down
    /// (shutdown(2) both ways), which also ends a send() blocked on a client that reads nothing.
    public func abort() {
        state.withLock { state in
            state.finished = true
            state.aborted = true
            state.pending.removeAll()
            state.hangUp?()
            state.wake?()
        }
    }

    /// Whether the connection is gone (the client left, or the stream finished and was sent).
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Bytes pushed and not yet taken by the socket.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Bytes taken for the socket since the stream opened: a producer that sees it stand still
    /// while bytes are pending knows the client has stopped reading.
    public var takenCount: Int { state.withLock { $0.taken } }

    /// `<hex length>\r\n<bytes>\r\n`: one chunk (RFC 9112 §7.1).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out += [0x0D, 0x0A]
        out += bytes
        out += [0x0D, 0x0A]
        return out
    }

    // MARK: - The server's side

    /// Sets what `push` and `finish` call to get the bytes written, and what `abort` calls to
    /// shut the socket down. Both run under the stream's lock, so they can never race with
    /// `close()`: the descriptor they use is still this connection's.
    func onWake(_ wake: @escaping @Sendable () -> Void, hangUp: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.wake = wake
            state.hangUp = hangUp
            if !state.pending.isEmpty || state.finished || source != nil { wake() }
        }
    }

    /// Runs `body` as this stream's only writer (the epoll engine's `writable`).
    func asWriter(_ body: () -> Void) {
        writer.withLock { _ in body() }
    }

    /// Takes the bytes pushed so far, and whether the stream has finished. With a source and
    /// nothing pending, the source's next piece (and at its end, the stream finishes).
    func takePending() -> (bytes: [UInt8], finished: Bool) {
        let taken: (bytes: [UInt8], finished: Bool) = state.withLock { state in
            // Handed over, not copied: a slow client's megabyte is not held twice.
            defer { state.pending = [] }
            state.taken += state.pending.count
            return (state.pending, state.finished)
        }
        guard let source, taken.bytes.isEmpty, !taken.finished else { return taken }
        // Outside the lock: the source may take locks of its own (the producer's).
        do {
            if let piece = try source.nextPiece(), !piece.isEmpty {
                return (chunked ? Self.chunk(piece) : piece, false)
            }
        } catch {
            abort()
            return (bytes: [], finished: true)
        }
        finish()
        return takePending()
    }

    /// Puts back bytes the socket did not take, in front of anything pushed since (unless the
    /// stream was aborted meanwhile: then nothing more is sent).
    func putBack(_ bytes: ArraySlice<UInt8>) {
        state.withLock { state in
            guard !state.aborted else { return }
            state.taken -= bytes.count
            state.pending.insert(contentsOf: bytes, at: 0)
        }
    }

    /// Marks the stream closed; `body` (closing the socket) runs under the lock, after which no
    /// wake-up can touch the descriptor.
    func close(_ body: () -> Void) {
        state.withLock { state in
            state.closed = true
            state.wake = nil
            state.hangUp = nil
            body()
        }
    }
}
