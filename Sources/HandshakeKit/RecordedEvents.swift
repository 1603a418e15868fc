import SocketCore
import Timeline

/// A capture's recorded events (its `.events.jsonl` sidecar: the programs' system calls and
/// output while it was recorded), handed to the renderer in time order as the packets go by,
/// and asked which call sent a FIN or a RST.
public final class RecordedEvents {
    /// Sorted by time; equal times keep the file's order.
    let events: [TimelineEvent]
    private var next = 0
    /// The system calls alone, by start time, for the span look-ups.
    private let calls: [TimelineEvent]
    /// The longest call, in microseconds: no call that started longer ago than this can hold a moment.
    private let longest: Int64

    public init(_ events: [TimelineEvent]) {
        self.events = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        calls = self.events.filter { $0.type == "syscall" }
        longest = calls.map { $0.end.microseconds - $0.time.microseconds }.max() ?? 0
    }

    /// The number of calls that started at or before `time` (binary search).
    private func callsStarted(through time: EpochTime) -> Int {
        var low = 0, high = calls.count
        while low < high {
            let middle = (low + high) / 2
            if calls[middle].time <= time { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Text replays: a call whose span holds other lines (the packet about to be shown, or
    /// another recorded event) is handed over in two halves, as the lesson timeline draws it:
    /// `connect(fd 3, 127.0.0.1:5000) ...` at its start (`"part":"start"`), and
    /// `... connect() -> 0 <0.000312>` at its return (`"part":"return"`, stamped at its end).
    /// JSON replays hand each recorded object over as it was.
    public var splitsCalls = false
    /// The returns of split calls not handed over yet, by time.
    private var returns: [TimelineEvent] = []

    /// Hands over the events stamped at or before `time`: a call that starts in the same
    /// microsecond as a packet is shown before it (it started first; its span holds the packet).
    func take(through time: EpochTime, _ body: (TimelineEvent) -> Void) {
        takeEvents(through: time, packet: time, body)
    }

    /// Hands over every event not yet given (the capture has ended).
    func takeRest(_ body: (TimelineEvent) -> Void) {
        takeEvents(through: nil, packet: nil, body)
    }

    /// Events and split calls' returns up to `limit` (nil: all), in time order; a return comes
    /// after an event of the same microsecond (the event happened inside the call).
    private func takeEvents(through limit: EpochTime?, packet: EpochTime?, _ body: (TimelineEvent) -> Void) {
        while true {
            let event = next < events.count && (limit == nil || events[next].time <= limit!) ? events[next] : nil
            let pendingReturn = returns.first.flatMap { limit == nil || $0.time <= limit! ? $0 : nil }
            if let event, pendingReturn == nil || event.time <= pendingReturn!.time {
                next += 1
                guard splitsCalls, spans(event, packet: packet) else {
                    body(event)
                    continue
                }
                var start = event
                start["part"] = .string("start")
                body(start)
                var end = event
                end.time = event.end
                end["part"] = .string("return")
                let index = returns.firstIndex { $0.time > end.time } ?? returns.count
                returns.insert(end, at: index)
            } else if let pendingReturn {
                returns.removeFirst()
                body(pendingReturn)
            } else {
                return
            }
        }
    }

    /// Whether a call's span holds the packet about to be shown or the next recorded event.
    private func spans(_ call: TimelineEvent, packet: EpochTime?) -> Bool {
        guard call.type == "syscall", call.end > call.time else { return false }
        if let packet, call.end >= packet { return true }
        var index = next
        while index < events.count && events[index].time <= call.end {
            // The line a write(2) printed is that write, not something that happened during it.
            let other = events[index]
            if !(other.type == "output" && other.label == call.label) { return true }
            index += 1
        }
        return false
    }

    /// Names the call that sent a FIN or a RST, and a RST's cause, when the recorded calls show it.
    func annotate(_ tracked: inout TrackedPacket) {
        let flags = tracked.packet.tcp.flags
        guard flags.contains(.fin) || flags.contains(.rst) else { return }
        let time = EpochTime(tracked.packet.time)
        let sender = tracked.direction == .toServer ? "client" : "server"
        let closing = callsSpanning(time, sender: sender) { $0 == "close" || $0 == "shutdown" }
        if flags.contains(.fin) {
            let names = Set(closing.map(Self.shortName))
            if names.count == 1 { tracked.call = names.first }
        } else if tracked.resetMeaning == .abortiveClose, closing.count == 1, let close = closing.first,
                  close.string("call") == "close" {
            tracked.call = "close()"
            tracked.resetCause = cause(of: close)
        }
    }

    /// How far past a call's recorded end its segment may be stamped. Our tools' spans hold the
    /// packets they cause (1 µs: both stamps are cut to the microsecond), but a recording made
    /// under strace times each call from the tracer, which sees the return a little late or early.
    static let slack: Int64 = 200

    /// The calls whose span `[start, start + duration]` holds `time`, give or take `slack`. Calls
    /// labelled with the other side's role (`server` for a client's segment) never count.
    private func callsSpanning(_ time: EpochTime, sender: String, _ wanted: (String) -> Bool) -> [TimelineEvent] {
        var found: [TimelineEvent] = []
        let earliest = time.microseconds - longest - Self.slack
        for call in calls[..<callsStarted(through: time)].reversed() {
            if call.time.microseconds < earliest { break }
            guard let name = call.string("call"), wanted(name),
                  call.end.microseconds + Self.slack >= time.microseconds else { continue }
            found.insert(call, at: 0)
        }
        let other = sender == "client" ? "server" : "client"
        return found.filter { $0.label != other }
    }

    /// Why a close() reset a connection: it closed a listening socket (the connection was still
    /// in its accept queue), or a socket set to SO_LINGER 0. Nil when its process's calls do not say.
    private func cause(of close: TimelineEvent) -> ResetCause? {
        guard let fd = Self.firstFD(close.string("text")) else { return nil }
        let pid = close.int("pid")
        // The latest call of that process, before the close, that made or configured this fd.
        for call in calls[..<callsStarted(through: close.time)].reversed() where call.time < close.time && call.int("pid") == pid {
            let text = call.string("text") ?? ""
            switch call.string("call") {
            case "listen" where Self.firstFD(text) == fd: return .listenerClosed
            case "setsockopt" where Self.firstFD(text) == fd && text.contains("SO_LINGER") && text.contains("on, 0s"):
                return .lingerZero
            case "socket" where text.hasSuffix("-> fd \(fd)"), "accept" where text.contains("-> fd \(fd) "):
                return nil
            default: continue
            }
        }
        return nil
    }

    /// `shutdown(fd 3, SHUT_WR) -> 0` → `shutdown(SHUT_WR)`; `close(fd 3) -> 0` → `close()`.
    static func shortName(_ call: TimelineEvent) -> String {
        let text = call.string("text") ?? ""
        guard call.string("call") == "shutdown" else { return "close()" }
        for how in ["SHUT_RDWR", "SHUT_WR", "SHUT_RD"] where text.contains(how) { return "shutdown(\(how))" }
        return "shutdown()"
    }

    /// The first `fd N` of a call's text.
    static func firstFD(_ text: String?) -> Int? {
        guard let text, let range = text.firstRange(of: "fd ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }
}

extension EpochTime {
    /// A packet's time, cut to the microsecond (nanosecond files too).
    init(_ time: Timestamp) {
        self.init(seconds: Int64(time.seconds), microseconds: Int64(time.isNanosecond ? time.fraction / 1000 : time.fraction))
    }
}
