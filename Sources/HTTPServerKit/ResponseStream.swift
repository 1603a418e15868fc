import Synchronization

/// A response body that stays open after the handler returns, fed from any thread: the seam
/// for Server-Sent Events and other live views.
///
/// A handler sends its head, then calls `openResponseStream()` and keeps the stream; other
/// threads `push` bytes into it and `finish` it. The server writes what is pushed: the epoll
/// engine when the socket can take it (EPOLLOUT), so an open stream costs its buffer and no
/// thread; `iterative` and `threads` on the connection's own thread, which it holds until the
/// stream finishes (as Python's classes would).
public final class ResponseStream: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var finished = false
        var closed = false
        var wake: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    /// Held by the one worker writing this stream: a push re-arms EPOLLOUT while another worker
    /// may still be sending what it took, and two writers would reorder (or, one of them
    /// finishing, lose) the bytes.
    private let writer = Mutex(())

    public init() {}

    /// Queues bytes to send; false once the connection is gone (stop producing then).
    @discardableResult
    public func push(_ bytes: [UInt8]) -> Bool {
        state.withLock { state in
            guard !state.closed, !state.finished else { return false }
            state.pending += bytes
            state.wake?()
            return true
        }
    }

    /// Ends the body: the connection closes once the pending bytes are sent.
    public func finish() {
        state.withLock { state in
            state.finished = true
            state.wake?()
        }
    }

    /// Whether the connection is gone (the client left, or the stream finished and was sent).
    public var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: - The server's side

    /// Sets what `push` and `finish` call to get the bytes written. It runs under the stream's
    /// lock, so it can never race with `close()`.
    func onWake(_ wake: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.wake = wake
            if !state.pending.isEmpty || state.finished { wake() }
        }
    }

    /// Runs `body` as this stream's only writer (the epoll engine's `writable`).
    func asWriter(_ body: () -> Void) {
        writer.withLock { _ in body() }
    }

    /// Takes the bytes pushed so far, and whether the stream has finished.
    func takePending() -> (bytes: [UInt8], finished: Bool) {
        state.withLock { state in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return (state.pending, state.finished)
        }
    }

    /// Puts back bytes the socket did not take, in front of anything pushed since.
    func putBack(_ bytes: ArraySlice<UInt8>) {
        state.withLock { $0.pending.insert(contentsOf: bytes, at: 0) }
    }

    /// Marks the stream closed; `body` (closing the socket) runs under the lock, after which no
    /// wake-up can touch the descriptor.
    func close(_ body: () -> Void) {
        state.withLock { state in
            state.closed = true
            state.wake = nil
            body()
        }
    }
}
