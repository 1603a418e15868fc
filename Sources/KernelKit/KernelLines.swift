import SocketCore
import Timeline

/// Kernel events as a student reads them: one line per step, where the kernel reports one step
/// as two events. The JSON keeps every event as it came; the text lines and the ladder ask here.
///
/// - The timewait takeover is `FIN_WAIT2 → TIME_WAIT` (`TimeWaitTakeover`), explained once.
/// - A congestion window's `tcp:tcp_probe` samples print only their changes (`ProbeNarration`).
/// - A listener's drop moves two namespace counters read in one sample: ListenOverflows (first in
///   `NetstatCounters.watched`) and ListenDrops. Every drop is counted in ListenDrops, so the
///   ListenDrops event gives the line, with the ListenOverflows of the same sample beside it; a
///   ListenOverflows alone is a drop already shown (the file is read one counter at a time).
///   The line names our listener when the watcher saw its queue full (the event's `local`), or
///   when the last `accept-queue` line shown for it said full (a recording made before that field).
public struct KernelLines {
    /// One line to write.
    public struct Line {
        /// The event as shown (a takeover's `→ CLOSE` made `→ TIME_WAIT`), for the ladder's column.
        public var event: KernelEvent
        /// `[kernel] ...`, without the time stamp.
        public var text: String
        /// Said once, under the line: what the kernel reported for this step.
        public var note: String?
    }

    private var takeover = TimeWaitTakeover()
    private var narration = ProbeNarration()
    /// The ListenOverflows change of the sample being read, until its ListenDrops comes.
    private var overflows: KernelEvent?
    /// Listeners (`127.0.0.1:5000`) whose last `accept-queue` event said full; at most `limit`.
    private var fullListeners: [String] = []
    static let limit = 64

    /// `--brief`: the lines without their explanations (`KernelEvent.briefText`), as brief
    /// packet lines keep only the step's name; the takeover's note is not said.
    public var brief = false

    public init(brief: Bool = false) { self.brief = brief }

    /// The line for `event`, shortened for `--brief` when that is on.
    public mutating func next(_ event: KernelEvent) -> Line? {
        guard var line = full(event) else { return nil }
        if brief {
            line.text = line.event.briefText(line.text)
            line.note = nil
        }
        return line
    }


    /// The line for `event`, nil when it is part of a step already shown. Call it for every
    /// kernel event, in order.
    private mutating func full(_ event: KernelEvent) -> Line? {
        if case .probe = event.kind {
            return narration.text(event).map { Line(event: event, text: $0) }
        }
        if case .counter(let name, let delta, let total) = event.kind {
            return counterLine(event, name: name, delta: delta, total: total)
        }
        if case .acceptQueue(let queued, let backlog) = event.kind {
            let listener = KernelEvent.hostPort(event.local, event.localPort)
            fullListeners.removeAll { $0 == listener }
            if queued > backlog { fullListeners = (fullListeners + [listener]).suffix(Self.limit) }
        }
        var from: String?, to: String?, source: String?
        if case .state(let before, let after, let seenBy) = event.kind {
            (from, to, source) = (before.description, after.description, seenBy.rawValue)
        }
        let shown = takeover.show(type: event.type, local: KernelEvent.hostPort(event.local, event.localPort),
                                  remote: KernelEvent.hostPort(event.remote, event.remotePort), from: from, to: to, source: source)
        switch shown {
        case .hidden:
            return nil
        case .asReported:
            return Line(event: event, text: event.text)
        case .takeover:
            var merged = event
            if case .state(let before, _, let seenBy) = event.kind { merged.kind = .state(from: before, to: .timeWait, source: seenBy) }
            return Line(event: merged, text: merged.text, note: takeover.explainOnce(shown) ? TimeWaitTakeover.explanation : nil)
        }
    }

    private mutating func counterLine(_ event: KernelEvent, name: String, delta: Int64, total: Int64) -> Line? {
        switch name {
        case "ListenOverflows":
            overflows = event
            return nil
        case "ListenDrops":
            defer { overflows = nil }
            var sameSample: (delta: Int64, total: Int64)?
            if let overflows, overflows.time == event.time, case .counter(_, let d, let t) = overflows.kind { sameSample = (d, t) }
            let listener = event.local.isEmpty ? fullListeners.last : KernelEvent.hostPort(event.local, event.localPort)
            guard let text = KernelEvent.listenDropText(drops: (delta, total), overflows: sameSample, listener: listener)
            else { return nil }
            return Line(event: event, text: text)
        default:
            return Line(event: event, text: event.text)
        }
    }
}
