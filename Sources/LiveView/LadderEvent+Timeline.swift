import SocketCore
import Timeline

extension LadderEvent {
    /// The ladder's view of a timeline event; nil for the types the ladder does not draw and for
    /// an event missing a field the drawing needs (a reader skips what it cannot use).
    public init?(_ event: TimelineEvent) {
        let time = event.time.value
        switch event.type {
        case "packet":
            guard let segment = Self.segment(event, time: time) else { return nil }
            self = .packet(segment)
        case "syscall":
            guard let pid = event.int("pid"), let call = event.string("call") else { return nil }
            self = .syscall(SystemCall(time: time, duration: max(0, event.double("duration") ?? 0),
                                       label: event.string("label") ?? "", pid: pid, call: call,
                                       text: event.string("text") ?? call + "()"))
        case "state":
            guard let local = Self.endpoint(event, "local", "lport"), let remote = Self.endpoint(event, "remote", "rport"),
                  let from = event.string("from"), let to = event.string("to") else { return nil }
            self = .state(StateChange(time: time, local: local, remote: remote, from: from, to: to,
                                      connection: event.int("conn"), source: event.string("source")))
        case "reset-sent", "reset-received":
            guard let local = Self.endpoint(event, "local", "lport"), let remote = Self.endpoint(event, "remote", "rport")
            else { return nil }
            self = .reset(local: local, remote: remote)
        case "connection":
            guard let connection = event.int("conn"), let client = event.string("client"),
                  let server = event.string("server") else { return nil }
            self = .connection(Summary(connection: connection, client: client, server: server,
                                       outcome: event.string("outcome") ?? "", connState: event.string("conn_state")))
        case "link-drop":
            guard let source = Self.endpoint(event, "src", "sport"), let destination = Self.endpoint(event, "dst", "dport"),
                  let length = event.int("len"), length >= 0 else { return nil }
            self = .linkDrop(LostPacket(time: time, source: source, destination: destination,
                                        flags: event["flags"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                        sequence: event.int("seq").flatMap(UInt32.init(exactly:)), length: length,
                                        reason: event.string("reason") ?? "?"))
        default:
            return nil
        }
    }

    private static func segment(_ event: TimelineEvent, time: Double) -> Segment? {
        guard let source = endpoint(event, "src", "sport"), let destination = endpoint(event, "dst", "dport"),
              let flags = event["flags"]?.arrayValue?.compactMap(\.stringValue),
              let sequence = event.int("seq").flatMap(UInt32.init(exactly:)),
              let acknowledgement = event.int("ack").flatMap(UInt32.init(exactly:)),
              let length = event.int("len"), length >= 0,
              let connection = event.int("conn"), let step = event.string("step") else { return nil }
        var segment = Segment(time: time, source: source, destination: destination, flags: flags, sequence: sequence,
                              acknowledgement: acknowledgement, length: length, connection: connection, step: step)
        segment.analysis = event["analysis"]?.arrayValue?.compactMap(\.stringValue) ?? []
        segment.duplicateAck = event.int("dup_ack")
        segment.duplicateAcksBefore = event.int("dup_acks_before")
        segment.sinceOriginalMilliseconds = event.double("since_original_ms")
        return segment
    }

    private static func endpoint(_ event: TimelineEvent, _ address: String, _ port: String) -> SocketAddress? {
        guard let text = event.string(address), let number = event.int(port) else { return nil }
        return SocketAddress(ip: text, port: number)
    }
}
