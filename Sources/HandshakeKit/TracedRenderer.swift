@preconcurrency import Glibc
import ProcessTrace
import SocketCore
import Timeline

/// `-- COMMAND` and `--pid`: wraps the chosen renderer and puts the traced programs' calls,
/// output lines and exits among the packets, in time order.
///
/// A call is known only when it returns, but it is placed by its start; so, as for the kernel's
/// events, packets wait up to `reorderWindow` before they are shown, in case a call that started
/// before them is still to come. A call still running when its start leaves the window (a server
/// blocked in accept()) is shown in two halves on text: `accept(fd 3) ...` at its start, and
/// `... accept() -> fd 4 from 127.0.0.1:47040 <2.113452>` when it returns. JSON gets each call
/// once, whole, when it returns (its `time` is its start).
public final class TracedRenderer<Base: Renderer>: Renderer {
    let base: Base
    let feed: TraceFeed
    let state: WatchState
    /// Text shows long calls in two halves; JSON writes each call once.
    let splitsCalls: Bool
    public var output: OutputBuffer { base.output }
    public var waitDescriptor: Int32? { feed.wakeDescriptor }

    private enum Held {
        case packet(TrackedPacket)
        case summary(ConnectionSummary)
    }
    /// Packets and summaries waiting, in capture order, with their times.
    ///
    /// Both queues are slices: what was shown is dropped from the front by moving the start,
    /// where an array would move every element left (a window of thousands of packets, moved
    /// once per packet). Their indices are the slice's own, from `startIndex`.
    private var held: ArraySlice<(time: EpochTime, item: Held)> = []
    /// Events waiting, sorted by time (stable).
    private var events: ArraySlice<TimelineEvent> = []
    /// Threads whose current call has been shown as started, with that start.
    private var shownStarted: [Int32: EpochTime] = [:]
    /// Connections with packets shown and no summary yet.
    private var open = Set<Int>()
    /// When COMMAND's end was first seen (monotonic seconds).
    private var commandEnded: Double?
    /// Every event, whole, for the `-w X.pcap` sidecar (`X.events.jsonl`); nil when not recording.
    public private(set) var recorded: [TimelineEvent]?
    /// The most events kept for the sidecar; past it the rest are counted, not kept.
    public static var recordLimit: Int { 1_000_000 }
    public private(set) var notRecorded = 0

    /// How long packets wait for calls that started before them (µs): the kernel view's window.
    static var reorderWindow: Int64 { 50_000 }
    /// After COMMAND ends: how long its connections may take to finish (seconds).
    static var drainSeconds: Double { 2 }

    public init(_ base: Base, feed: TraceFeed, state: WatchState, splitsCalls: Bool, recording: Bool) {
        self.base = base
        self.feed = feed
        self.state = state
        self.splitsCalls = splitsCalls
        recorded = recording ? [] : nil
    }

    public func packet(_ tracked: TrackedPacket) {
        held.append((EpochTime(tracked.packet.time), .packet(tracked)))
        read = max(read, EpochTime(tracked.packet.time))
        release(upTo: horizon())
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        let time = held.last?.time ?? EpochTime(summary.lastPacketTime)
        held.append((time, .summary(summary)))
    }

    public func event(_ event: TimelineEvent) { insert(event) }

    public func idle(caughtUp: EpochTime) {
        // Every packet stamped before `caughtUp` has been read (immediate mode: the kernel hands
        // each one over as it stamps it); the millisecond is for the instant between the two.
        read = max(read, EpochTime(microseconds: caughtUp.microseconds - 1_000))
        feed.drainWake()
        release(upTo: horizon())
        checkCommandEnded()
        base.idle(caughtUp: caughtUp)
    }

    public func finish(_ stats: CaptureStats) {
        release(upTo: nil)
        base.finish(stats)
    }

    /// What may be shown: lines older than the window, and never past what the capture has
    /// read. On a loaded machine the packets can reach us later than the window; a call shown
    /// before they arrive would be drawn whole above the packets it caused.
    /// Nor past a call the tracer has seen start (or end) and not yet handed over: the program
    /// runs on meanwhile and may already have sent the packets that call causes.
    private func horizon() -> EpochTime {
        let shown = min(EpochTime(microseconds: Clock.now().microseconds - Self.reorderWindow), read)
        guard let pending = feed.heldFrom else { return shown }
        return min(shown, EpochTime(microseconds: pending.microseconds - 1))
    }
    /// Every packet stamped up to here has been read from the capture: a packet's stamp (they
    /// come in time order), or when a look that found the ring empty began.
    private var read = EpochTime(microseconds: 0)

    /// Takes the tracer's new events, shows as started the calls older than the window, then
    /// writes everything up to `limit` (nil: all) in time order; a call before a packet of the
    /// same microsecond (it started first).
    private func release(upTo limit: EpochTime?) {
        for event in feed.take() { arrived(event) }
        if splitsCalls {
            for (tid, call) in feed.inFlight where shownStarted[tid] == nil && (limit == nil || call.start <= limit!) {
                shownStarted[tid] = call.start
                var start = call.event
                start["part"] = .string("start")
                insert(start)
            }
        }
        var packetIndex = held.startIndex
        var eventIndex = events.startIndex
        while true {
            let packetTime = packetIndex < held.endIndex ? held[packetIndex].time : nil
            let eventTime = eventIndex < events.endIndex ? events[eventIndex].time : nil
            let takeEvent: Bool
            switch (packetTime, eventTime) {
            case (nil, nil): takeEvent = false
            case (nil, .some): takeEvent = true
            case (.some, nil): takeEvent = false
            case (.some(let p), .some(let e)): takeEvent = e <= p
            }
            guard let time = takeEvent ? eventTime : packetTime else { break }
            if let limit, time > limit { break }
            if takeEvent {
                let event = events[eventIndex]
                eventIndex += 1
                if splitsCalls, event.type == "syscall", event["part"] == nil,
                   holdsOther(event, packetsFrom: packetIndex, eventsFrom: eventIndex) {
                    // It spans other lines: its start now, its return in its place.
                    var start = event
                    start["part"] = .string("start")
                    base.event(start)
                    var end = event
                    end.time = event.end
                    end["part"] = .string("return")
                    insert(end)
                } else {
                    base.event(event)
                }
            } else {
                switch held[packetIndex].item {
                case .packet(let tracked):
                    open.insert(tracked.connection)
                    base.packet(tracked)
                case .summary(let summary):
                    open.remove(summary.connection)
                    base.connectionEnded(summary)
                }
                packetIndex += 1
            }
        }
        held = held[packetIndex...]   // the start moves; nothing is copied
        events = events[eventIndex...]
    }

    /// Whether a call's span `(start, end]` holds another line: a packet waiting, an event, or
    /// the start of a call still running.
    private func holdsOther(_ call: TimelineEvent, packetsFrom packetIndex: Int, eventsFrom eventIndex: Int) -> Bool {
        let start = call.time, end = call.end
        guard end > start else { return false }
        if packetIndex < held.endIndex, held[packetIndex...].contains(where: { $0.time > start && $0.time <= end }) { return true }
        for event in events[eventIndex...] {
            if event.time > end { break }
            if event.time > start || (event.time == start && event.type != "syscall") { return true }
        }
        let tid = call.int("tid")
        return feed.inFlight.contains { $0.key != tid.map(Int32.init) && $0.value.start > start && $0.value.start <= end }
    }

    /// A finished call, an output line or an exit from the tracer.
    private func arrived(_ event: TimelineEvent) {
        if let count = recorded?.count {
            if count < Self.recordLimit { recorded?.append(event) } else { notRecorded += 1 }
        }
        // Text: COMMAND's lines are on the terminal already (its stdout is ours), once is enough.
        if event.type == "output" && splitsCalls { return }
        if event.type == "syscall", splitsCalls, let tid = event.int("tid").map(Int32.init),
           let started = shownStarted[tid], started == event.time {
            shownStarted[tid] = nil
            var end = event
            end.time = event.end
            end["part"] = .string("return")
            insert(end)
            return
        }
        insert(event)
    }

    private func insert(_ event: TimelineEvent) {
        var low = events.startIndex, high = events.endIndex
        while low < high {   // after every event stamped at or before it
            let middle = (low + high) / 2
            if events[middle].time <= event.time { low = middle + 1 } else { high = middle }
        }
        events.insert(event, at: low)
    }

    /// COMMAND has ended: the watch ends once its connections have (or after `drainSeconds`),
    /// and not before the window has passed, so its last calls are in.
    private func checkCommandEnded() {
        guard feed.commandStatus != nil || feed.isFinished else { return }
        let now = Clock.monotonic()
        if commandEnded == nil { commandEnded = now }
        let waited = now - (commandEnded ?? now)
        // Caught up: the tracer waits for a stop and has handled none in the last 20 ms (the
        // calls of programs still running, a server's last close(), are in). Two looks in the
        // same instant could both fall between "waiting" and waitpid's return for a stop
        // already pending: the looks are kept 20 ms apart.
        let progress = feed.progress
        if progress.stops != lastStops.count { lastStops = (progress.stops, now) }
        let caughtUp = feed.isFinished || (progress.waiting && now - lastStops.since >= 0.02)
        if (open.isEmpty && held.isEmpty && caughtUp && waited >= Double(Self.reorderWindow) / 1e6) || waited >= Self.drainSeconds {
            state.stopped.store(true, ordering: .relaxed)
        }
    }
    /// The tracer's count of handled stops, and since when it has been that.
    private var lastStops = (count: -1, since: 0.0)

    /// Without a capture (no root): only the tracer's events, until COMMAND ends or a signal.
    public func runWithoutPackets() {
        while !state.stopped.load(ordering: .relaxed) {
            var entries = [pollfd(fd: feed.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
            _ = try? Syscall.poll(&entries, timeout: 100, traced: false)
            idle(caughtUp: Clock.now())   // no capture: no packet to wait for
            output.flush()
        }
        release(upTo: nil)
        output.flush()
    }
}
