import SocketCore
import Timeline

/// A kernel event and the shared timeline's event are the same object: this is the mapping, both
/// ways, so `--format json`, the `.events.jsonl` sidecar and a replay all speak EVENTS.md.
extension KernelEvent {
    public var timelineEvent: TimelineEvent {
        var fields: [(String, JSONValue)] = []
        let socket: [(String, JSONValue)] = [("local", .string(local)), ("lport", .integer(localPort))]
        let pair = socket + [("remote", .string(remote)), ("rport", .integer(remotePort))]
        switch kind {
        case .state(let from, let to, let source):
            fields = pair + [("from", .string(from.description)), ("to", .string(to.description)),
                             ("source", .string(source.rawValue))]
        case .resetSent(let reason):
            fields = pair + [("reason", .string(reason))]
        case .resetReceived, .synackRetransmit, .retransmit:
            fields = pair
        case .acceptQueue(let queued, let backlog):
            fields = socket + [("queued", .integer(queued)), ("backlog", .integer(backlog))]
        case .counter(let name, let delta, let total):
            fields = [("name", .string(name)), ("delta", .integer(delta)), ("total", .integer(total))]
            if !local.isEmpty { fields += socket }   // the listener seen with a full accept queue
        case .probe(let probe):
            fields = pair + [("snd_cwnd", .integer(probe.congestionWindow)), ("ssthresh", .integer(probe.slowStartThreshold)),
                             ("srtt_us", .integer(probe.smoothedRTTMicroseconds)), ("snd_wnd", .integer(probe.sendWindow)),
                             ("rcv_wnd", .integer(probe.receiveWindow)), ("snd_nxt", .integer(Int(probe.sendNext))),
                             ("snd_una", .integer(Int(probe.sendUnacknowledged))), ("data_len", .integer(probe.dataLength))]
        }
        if let connection { fields.append(("conn", .integer(connection))) }
        return TimelineEvent(type: type, time: time, fields: fields)
    }

    /// Reads a kernel event back from the timeline (a sidecar, a JSON line); nil for other types.
    public init?(_ event: TimelineEvent) {
        let kind: Kind
        switch event.type {
        case "state":
            guard let from = event.string("from").flatMap({ TCPState(name: Substring($0)) }),
                  let to = event.string("to").flatMap({ TCPState(name: Substring($0)) }),
                  let source = event.string("source").flatMap(Source.init(rawValue:)) else { return nil }
            kind = .state(from: from, to: to, source: source)
        case "reset-sent": kind = .resetSent(reason: event.string("reason") ?? "NOT_SPECIFIED")
        case "reset-received": kind = .resetReceived
        case "synack-retransmit": kind = .synackRetransmit
        case "retransmit": kind = .retransmit
        case "accept-queue":
            guard let queued = event.int("queued"), let backlog = event.int("backlog") else { return nil }
            kind = .acceptQueue(queued: queued, backlog: backlog)
        case "counter":
            guard let name = event.string("name"), let delta = event.int("delta"), let total = event.int("total")
            else { return nil }
            kind = .counter(name: name, delta: Int64(delta), total: Int64(total))
        case "tcp-probe":
            guard let probe = Self.probe(event) else { return nil }
            kind = .probe(probe)
        default: return nil
        }
        self.init(time: event.time, kind: kind, local: event.string("local") ?? "", localPort: event.int("lport") ?? 0,
                  remote: event.string("remote") ?? "", remotePort: event.int("rport") ?? 0, connection: event.int("conn"))
    }

    /// A `tcp-probe` object's numbers; nil when one is missing or out of its range.
    private static func probe(_ event: TimelineEvent) -> TCPProbe? {
        guard let cwnd = event.int("snd_cwnd"), let ssthresh = event.int("ssthresh"), let srtt = event.int("srtt_us"),
              let sendWindow = event.int("snd_wnd"), let receiveWindow = event.int("rcv_wnd"),
              let next = event.int("snd_nxt").flatMap(UInt32.init(exactly:)),
              let unacknowledged = event.int("snd_una").flatMap(UInt32.init(exactly:)),
              let length = event.int("data_len") else { return nil }
        return TCPProbe(congestionWindow: cwnd, slowStartThreshold: ssthresh, smoothedRTTMicroseconds: srtt,
                        sendWindow: sendWindow, receiveWindow: receiveWindow, sendNext: next,
                        sendUnacknowledged: unacknowledged, dataLength: length)
    }
}
