@preconcurrency import Glibc
import HTTPServerKit
import SocketCore
import Synchronization

/// Where the timeline meets the browsers: the capture appends each event, every open
/// `/events` stream receives it as one Server-Sent Event.
///
///     capture thread  append(line) → ring (id N) → each stream: push("id: N\ndata: {...}\n\n")
///     web workers     subscribe(stream, after: M) → the events after M, then every new one
///
/// The capture path never waits for the web: a push only copies bytes into the stream's buffer
/// (the epoll engine writes them when the socket can take them). A browser that stops reading
/// is dropped once its buffer passes `clientBufferLimit`, without slowing anyone else; it
/// reconnects with `Last-Event-ID` when it can, or reloads.
public final class EventHub: Sendable {
    /// Events kept for browsers that connect late or reconnect.
    public static let defaultCapacity = 1_000_000
    /// Bytes a browser may fall behind before it is dropped.
    public static let clientBufferLimit = 1 << 20

    private struct State {
        var ring: EventRing
        var streams: [ObjectIdentifier: ResponseStream] = [:]
        var ended = false
    }

    private let state: Mutex<State>

    public init(capacity: Int = EventHub.defaultCapacity) {
        state = Mutex(State(ring: EventRing(capacity: capacity)))
    }

    /// What a new stream starts with.
    public enum Start: Equatable, Sendable {
        /// The events after the asked id follow, then every new one.
        case streaming(backlog: Int)
        /// The asked id is no longer kept (or was never given): `event: reset`, the page reloads.
        case reset
    }

    // MARK: - The capture's side

    /// Keeps one event (its JSON object, one line without the newline) and sends it to every
    /// open stream. Returns its id.
    @discardableResult
    public func append(_ line: [UInt8]) -> Int {
        state.withLock { state in
            let id = state.ring.append(line)
            if !state.streams.isEmpty { broadcast(Self.message(id: id, line: line), in: &state) }
            return id
        }
    }

    /// The end of the capture (SIGINT, SIGTERM): every stream gets `event: end` and closes;
    /// streams opened later get their backlog and the end at once.
    /// Waits up to `seconds` for those streams to be sent, so a process that exits next does
    /// not cut the last bytes off.
    public func end(waitingUpTo seconds: Double = 0) {
        let ending: [ResponseStream] = state.withLock { state in
            state.ended = true
            let streams = Array(state.streams.values)
            for stream in streams {
                stream.push(Self.endMessage)
                stream.finish()
            }
            state.streams.removeAll()
            return streams
        }
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9)
        while ending.contains(where: { !$0.isClosed }) && Clock.monotonicNanoseconds() < deadline {
            usleep(10_000)
        }
    }

    // MARK: - The browsers' side

    /// Starts a stream after event `after` (nil: from the oldest kept). The backlog and each
    /// event after it are pushed into `stream`; a backlog larger than one buffer gets a reset
    /// instead (the page then reloads `events.jsonl`, which has no such bound).
    public func subscribe(_ stream: ResponseStream, after: Int?) -> Start {
        state.withLock { state in
            stream.push(Self.retry)
            let from = after ?? (state.ring.firstId - 1)
            guard let backlog = state.ring.events(after: from),
                  backlog.reduce(0, { $0 + $1.line.count + 24 }) < stream.bufferLimit / 2 else {
                stream.push(Self.resetMessage)
                stream.finish()
                return .reset
            }
            var bytes: [UInt8] = []
            for (id, line) in backlog { bytes += Self.message(id: id, line: line) }
            stream.push(bytes)
            if state.ended {
                stream.push(Self.endMessage)
                stream.finish()
            } else {
                state.streams[ObjectIdentifier(stream)] = stream
            }
            return .streaming(backlog: backlog.count)
        }
    }

    /// Every event kept, one JSON line each, and the id of the last (where a stream resumes).
    public func snapshot() -> (lines: [[UInt8]], lastId: Int) {
        state.withLock { ($0.ring.all, $0.ring.lastId) }
    }

    /// A comment line on every stream: it keeps proxies and idle timers from closing a quiet
    /// stream, and finds the browsers that left (their push fails).
    public func keepAlive() {
        state.withLock { broadcast(Self.keepAliveComment, in: &$0) }
    }

    /// Closes every open stream from the server's side (a test hook): browsers reconnect with
    /// `Last-Event-ID` and must see each event once.
    public func dropStreams() {
        state.withLock { state in
            for stream in state.streams.values { stream.finish() }
            state.streams.removeAll()
        }
    }

    /// Streams open now.
    public var streamCount: Int { state.withLock { $0.streams.count } }

    /// The id of the newest event (0 before the first).
    public var lastId: Int { state.withLock { $0.ring.lastId } }

    /// Pushes bytes to every stream, forgetting those that are gone or were dropped as too slow.
    private func broadcast(_ bytes: [UInt8], in state: inout State) {
        var gone: [ObjectIdentifier] = []
        for (key, stream) in state.streams where !stream.push(bytes) { gone.append(key) }
        for key in gone { state.streams.removeValue(forKey: key) }
    }

    // MARK: - The wire form (the page's contract: LiveViewPage)

    /// `id: N\ndata: {...}\n\n`: one event, its JSON on one data line.
    static func message(id: Int, line: [UInt8]) -> [UInt8] {
        var bytes = Array("id: \(id)\ndata: ".utf8)
        bytes.reserveCapacity(bytes.count + line.count + 2)
        bytes += line
        bytes += [0x0A, 0x0A]
        return bytes
    }

    static let retry = Array("retry: 500\n\n".utf8)
    static let resetMessage = Array("event: reset\ndata: {}\n\n".utf8)
    static let endMessage = Array("event: end\ndata: {}\n\n".utf8)
    static let keepAliveComment = Array(": keep-alive\n\n".utf8)
}
