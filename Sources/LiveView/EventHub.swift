import Dispatch
import HTTPServerKit
import SocketCore
import Synchronization

/// Where the timeline meets the browsers: the capture appends each event, every open
/// `/events` stream receives it as one Server-Sent Event.
///
///     capture thread   append(line) → ring (id N), wake the delivery thread
///     delivery thread  the events since its last round → each stream: push("id: N\ndata: {...}\n\n"...)
///     web workers      subscribe(stream, after: M) → the events after M, then every new one
///
/// The capture path never waits for the web: it only stores the line and, when the delivery
/// thread is idle, wakes it. That thread sends everything new in one push per stream (a push
/// copies bytes into the stream's buffer; the epoll engine writes them when the socket can take
/// them), so a burst costs one round, not one per event and browser. A browser that stops
/// reading is dropped once its buffer passes `clientBufferLimit`, without slowing anyone else;
/// it reconnects with `Last-Event-ID`, or reloads. The streams that have stopped reading may
/// hold `totalBufferLimit` together: past it, the one behind for the longest is dropped first.
///
/// Once the diagram has been asked for, the delivery thread keeps the ladder (`LiveLadder`) up
/// to date as events arrive, so the next request finds it built, whatever the number of events.
/// A class that never asks for it pays neither the parsing nor the memory.
public final class EventHub: Sendable {
    /// Events kept for browsers that connect late or reconnect.
    public static let defaultCapacity = 1_000_000
    /// Bytes a browser may fall behind before it is dropped.
    public static let clientBufferLimit = 1 << 20
    /// Bytes all browsers that have stopped reading may hold together before the oldest is dropped.
    public static let totalBufferLimit = 32 << 20

    /// What the capture thread touches: the events, and whether a delivery round is due.
    private struct Store {
        var ring: EventRing
        var wakePending = false
    }

    /// What delivery owns: the open streams and how far they have been sent. Lock order:
    /// `delivery`, then `store`; the capture thread takes `store` alone.
    private struct Delivery {
        var streams: [ObjectIdentifier: Subscriber] = [:]
        /// The id of the last event pushed to every stream.
        var sentThrough = 0
        var ended = false
        /// Counts the streams subscribed: the order in which they came.
        var serial = 0
    }

    /// An open stream, and the id it asked to start after (it may be ahead of delivery, for a
    /// page that has just loaded events.jsonl).
    private struct Subscriber {
        let stream: ResponseStream
        let after: Int
        /// The order it came in (the older first among laggards behind since the same instant).
        let serial: Int
        /// The stream's `takenCount` at the last look.
        var takenAtLastLook = 0
        /// When the client was last seen reading (its socket took bytes, or none were waiting).
        var lastProgress: UInt64
        /// Whether it has taken nothing for `stallNanoseconds` while bytes waited.
        var stalled = false
    }

    private let store: Mutex<Store>
    private let delivery = Mutex(Delivery())
    /// Lock order: `ladder`, then `store`.
    private let ladder = Mutex(LiveLadder())
    /// Whether the diagram has been asked for: from then on, delivery keeps the ladder.
    private let ladderWanted = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let ownThread: Bool
    private let threadStarted = Atomic<Bool>(false)

    /// `deliveryThread: false` leaves delivery to explicit `deliver()` calls (tests). The thread
    /// starts with the first event, so a program can block its signals before.
    /// `stallSeconds`: how long a stream may take nothing while bytes wait before it counts as
    /// a laggard (one that stopped reading, not one a busy moment delayed).
    /// `source`: what the page's badge says, `live` for a capture as it happens, `replay` for a file.
    public init(capacity: Int = EventHub.defaultCapacity, deliveryThread: Bool = true, stallSeconds: Double = 1,
                source: Source = .live) {
        self.source = source
        store = Mutex(Store(ring: EventRing(capacity: capacity)))
        ownThread = deliveryThread
        stallNanoseconds = UInt64(max(0, stallSeconds) * 1e9)
    }

    private let stallNanoseconds: UInt64

    /// Where the events come from, as the page's status badge names it.
    public enum Source: String, Sendable {
        /// A capture as it happens (a network interface, or `-r -` from a pipe).
        case live
        /// A capture file read to its end (`-r FILE`, a lesson `--from-captures`).
        case replay
    }

    public let source: Source

    private func wakeDelivery() {
        guard ownThread else { return }
        if !threadStarted.exchange(true, ordering: .relaxed) {
            do {
                try Threads.detach { [self] in
                    while true {
                        wake.wait()
                        deliver()
                        if ladderWanted.load(ordering: .relaxed) { updateLadder() }
                    }
                }
            } catch {
                Console.error("live view: cannot start the delivery thread: \(error)")
            }
        }
        wake.signal()
    }

    /// What a new stream starts with.
    public enum Start: Equatable, Sendable {
        /// The events after the asked id follow, then every new one.
        case streaming(backlog: Int)
        /// The asked id is no longer kept (or was never given): `event: reset`, the page reloads.
        case reset
    }

    // MARK: - The capture's side

    /// Keeps one event (its JSON object, one line without the newline) for every stream.
    /// Returns its id.
    @discardableResult
    public func append(_ line: [UInt8]) -> Int {
        let (id, wakeUp): (Int, Bool) = store.withLock { store in
            let id = store.ring.append(line)
            defer { store.wakePending = true }
            return (id, !store.wakePending)
        }
        if wakeUp { wakeDelivery() }
        return id
    }

    /// The end of the capture (SIGINT, SIGTERM): every stream gets what is left, `event: end`,
    /// and closes; streams opened later get their backlog and the end at once. Waits up to
    /// `seconds` for those streams to be sent, so a process that exits next does not cut the
    /// last bytes off.
    public func end(waitingUpTo seconds: Double = 0) {
        let ending: [ResponseStream] = delivery.withLock { delivery in
            deliverNew(&delivery)
            delivery.ended = true
            let streams = delivery.streams.values.map(\.stream)
            for stream in streams {
                stream.push(Self.endMessage)
                stream.finish()
            }
            delivery.streams.removeAll()
            return streams
        }
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, seconds) * 1e9)
        while ending.contains(where: { !$0.isClosed }) && Clock.monotonicNanoseconds() < deadline {
            Syscall.sleep(seconds: 0.01)
        }
    }

    // MARK: - Delivery

    /// One delivery round: every event not yet sent, to every stream, one push each.
    public func deliver() {
        delivery.withLock { deliverNew(&$0) }
    }

    private func deliverNew(_ delivery: inout Delivery) {
        let new: [(id: Int, line: [UInt8])]? = store.withLock { store in
            store.wakePending = false
            return store.ring.events(after: delivery.sentThrough)
        }
        guard let new else {
            // The ring moved past what was sent (a delivery more than `capacity` events late):
            // the streams cannot resume in order; they reset and reload.
            for subscriber in delivery.streams.values {
                subscriber.stream.push(Self.resetMessage)
                subscriber.stream.finish()
            }
            delivery.streams.removeAll()
            delivery.sentThrough = store.withLock { $0.ring.lastId }
            return
        }
        guard let last = new.last else { return }
        delivery.sentThrough = last.id
        guard !delivery.streams.isEmpty else { return }
        let bytes = Self.messages(new)
        let firstId = new[0].id
        broadcast(in: &delivery) { after in
            after < firstId ? bytes : after >= last.id ? nil : Self.messages(new.filter { $0.id > after })
        }
    }

    /// Pushes to every stream what `bytes(after)` gives for it (nil: nothing), forgetting the
    /// streams that are gone or were dropped as too slow.
    private func broadcast(in delivery: inout Delivery, _ bytes: (_ after: Int) -> [UInt8]?) {
        noteLaggards(in: &delivery)
        var gone: [ObjectIdentifier] = []
        for (key, subscriber) in delivery.streams {
            guard let bytes = bytes(subscriber.after) else { continue }
            if !subscriber.stream.push(bytes) { gone.append(key) }
        }
        for key in gone { delivery.streams.removeValue(forKey: key) }
        dropLaggards(in: &delivery)
    }

    /// Looks at which streams have stopped reading: bytes wait in the buffer and the socket
    /// has taken none of them for `stallNanoseconds`. A browser that reads takes some within a
    /// moment, however large the burst; one that does not is behind since it last did.
    private func noteLaggards(in delivery: inout Delivery) {
        let now = Clock.monotonicNanoseconds()
        for (key, subscriber) in delivery.streams {
            let taken = subscriber.stream.takenCount
            let waiting = subscriber.stream.pendingCount > 0
            var updated = subscriber
            if taken != subscriber.takenAtLastLook || !waiting { updated.lastProgress = now }
            updated.takenAtLastLook = taken
            updated.stalled = waiting && now - updated.lastProgress >= stallNanoseconds
            delivery.streams[key] = updated
        }
    }

    /// Keeps the bytes waiting in streams that have stopped reading under `totalBufferLimit`:
    /// past it, the stream behind for the longest is dropped, then the next, as nginx drains
    /// its oldest connections first. A stream that reads is bounded by its own buffer alone.
    private func dropLaggards(in delivery: inout Delivery) {
        var total = 0
        var laggards: [(key: ObjectIdentifier, since: UInt64, serial: Int)] = []
        for (key, subscriber) in delivery.streams where subscriber.stalled {
            laggards.append((key, subscriber.lastProgress, subscriber.serial))
            total += subscriber.stream.pendingCount
        }
        guard total > Self.totalBufferLimit else { return }
        laggards.sort { ($0.since, $0.serial) < ($1.since, $1.serial) }
        for laggard in laggards where total > Self.totalBufferLimit {
            guard let dropped = delivery.streams.removeValue(forKey: laggard.key)?.stream else { continue }
            total -= dropped.pendingCount
            dropped.abort()
        }
    }

    /// The messages of these events, one after the other.
    static func messages(_ events: [(id: Int, line: [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (id, line) in events { appendMessage(id: id, line: line, to: &bytes) }
        return bytes
    }

    // MARK: - The browsers' side

    /// Starts a stream after event `after` (nil: from the oldest kept). The backlog (up to what
    /// delivery has sent to everyone) is pushed at once, delivery sends the rest. A backlog
    /// larger than half a buffer gets a reset instead: the page then reloads `events.jsonl`,
    /// which has no such bound.
    public func subscribe(_ stream: ResponseStream, after: Int?) -> Start {
        delivery.withLock { delivery in
            stream.push(Self.retry)
            stream.push(Self.sourceMessage(source))
            let backlog: [(id: Int, line: [UInt8])]? = store.withLock { store in
                let from = after ?? (store.ring.firstId - 1)
                guard from <= store.ring.lastId else { return nil }   // an id this ring never gave
                return store.ring.events(after: from)?.filter { $0.id <= delivery.sentThrough }
            }
            guard let backlog, backlog.reduce(0, { $0 + $1.line.count + 24 }) < stream.bufferLimit / 2 else {
                stream.push(Self.resetMessage)
                stream.finish()
                return .reset
            }
            stream.push(Self.messages(backlog))
            if delivery.ended {
                stream.push(Self.endMessage)
                stream.finish()
            } else {
                noteLaggards(in: &delivery)   // the streams already open, before the newcomer
                delivery.serial += 1
                delivery.streams[ObjectIdentifier(stream)] = Subscriber(stream: stream, after: after ?? 0, serial: delivery.serial,
                                                                        lastProgress: Clock.monotonicNanoseconds())
                dropLaggards(in: &delivery)
            }
            return .streaming(backlog: backlog.count)
        }
    }

    /// Every event kept, one JSON line each, and the id of the last (where a stream resumes).
    public func snapshot() -> (lines: [[UInt8]], lastId: Int) {
        store.withLock { ($0.ring.all, $0.ring.lastId) }
    }

    /// The events kept now, as `/events.jsonl` gives them: the first and last ids, and the
    /// length of their JSON Lines.
    public func keptRange() -> (first: Int, last: Int, bytes: Int) {
        store.withLock { ($0.ring.firstId, $0.ring.lastId, $0.ring.byteCount) }
    }

    /// The JSON Lines of the events from `id` up to `last`, about `maxBytes` of them at a time,
    /// and the id to ask for next; nil once the ring has overwritten `id`.
    public func lines(from id: Int, through last: Int, maxBytes: Int) -> (bytes: [UInt8], next: Int)? {
        store.withLock { $0.ring.lines(from: id, through: last, maxBytes: maxBytes) }
    }

    // MARK: - The ladder

    /// Brings the ladder up to the newest event (the delivery thread does it after each round
    /// once the diagram has been asked for; a request for it does it too, for the events since).
    func updateLadder() {
        ladder.withLock { updateLadder(&$0) }
    }

    private func updateLadder(_ ladder: inout LiveLadder) {
        let (capacity, firstKept) = store.withLock { ($0.ring.capacity, $0.ring.firstId) }
        if ladder.through < firstKept - 1 || ladder.isStale(firstKept: firstKept, capacity: capacity) {
            ladder.restart(at: firstKept)
        }
        // In slices, so the capture thread never waits long for the ring.
        while true {
            let new: [(id: Int, line: [UInt8])] = store.withLock { store in
                let last = min(store.ring.lastId, ladder.through + 4096)
                guard ladder.through >= store.ring.firstId - 1, last > ladder.through else { return [] }
                return (ladder.through + 1 ... last).map { ($0, store.ring[$0]) }
            }
            guard !new.isEmpty else { return }
            for (id, line) in new { ladder.add(id: id, line: line) }
        }
    }

    /// The plan of the SVG diagram of every event so far: every connection, or only `connection`.
    func ladderDocument(connection: Int?) -> SVGLadderDocument {
        ladderWanted.store(true, ordering: .relaxed)
        return ladder.withLock { ladder in
            updateLadder(&ladder)
            return ladder.document(connection: connection)
        }
    }

    /// A comment line on every stream: it keeps proxies and idle timers from closing a quiet
    /// stream, and finds the browsers that left (their push fails).
    public func keepAlive() {
        delivery.withLock { broadcast(in: &$0) { _ in Self.keepAliveComment } }
    }

    /// Closes every open stream from the server's side (a test hook): browsers reconnect with
    /// `Last-Event-ID` and must see each event once.
    public func dropStreams() {
        delivery.withLock { delivery in
            deliverNew(&delivery)
            for subscriber in delivery.streams.values { subscriber.stream.finish() }
            delivery.streams.removeAll()
        }
    }

    /// Streams open now.
    public var streamCount: Int { delivery.withLock { $0.streams.count } }

    /// The id of the newest event (0 before the first).
    public var lastId: Int { store.withLock { $0.ring.lastId } }

    // MARK: - The wire form (the page's contract: LiveViewPage)

    /// `id: N\ndata: {...}\n\n`: one event, its JSON on one data line.
    static func appendMessage(id: Int, line: [UInt8], to bytes: inout [UInt8]) {
        bytes += Array("id: ".utf8)
        bytes += Array(String(id).utf8)
        bytes += Array("\ndata: ".utf8)
        bytes += line
        bytes += [0x0A, 0x0A]
    }

    static let retry = Array("retry: 500\n\n".utf8)
    static let resetMessage = Array("event: reset\ndata: {}\n\n".utf8)
    static let endMessage = Array("event: end\ndata: {}\n\n".utf8)
    /// `event: source` opens every stream: the page's badge says `live` or `replay` from it.
    static func sourceMessage(_ source: Source) -> [UInt8] {
        Array("event: source\ndata: {\"source\":\"\(source.rawValue)\"}\n\n".utf8)
    }
    static let keepAliveComment = Array(": keep-alive\n\n".utf8)
}
