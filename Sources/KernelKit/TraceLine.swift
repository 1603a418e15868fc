import SocketCore

/// Reads one line of tracefs's text output (`trace_pipe`) into a `KernelEvent`.
///
///     <task>-<pid>  [cpu] flags  <seconds.micros>: <event>: key=value key=value ...
///     python3-12929 [001] .N... 1796073901.670083: inet_sock_set_state: family=AF_INET
///         protocol=IPPROTO_TCP sport=56814 dport=1 saddr=127.0.0.1 daddr=127.0.0.1
///         saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.1 oldstate=TCP_SYN_SENT newstate=TCP_CLOSE
///
/// The stamp is the instance's trace clock (see `TraceClock`); `clock` turns it into
/// CLOCK_REALTIME. The task name may hold spaces and dashes, so the line is cut at the event's
/// name, not split from the left.
public enum TraceLine {
    /// The events this reader understands, as tracefs names them in a line.
    static let events = ["inet_sock_set_state", "tcp_send_reset", "tcp_receive_reset", "tcp_retransmit_synack",
                         "tcp_retransmit_skb"]

    public static func parse(_ line: Substring, clock: TraceClock) -> KernelEvent? {
        for name in events {
            guard let marker = line.firstRange(of: ": \(name): ") else { continue }
            guard let stamp = line[..<marker.lowerBound].split(separator: " ").last,
                  let traceTime = EpochTime(parsing: stamp) else { return nil }
            let fields = Self.fields(line[marker.upperBound...])
            return event(name, fields, time: clock.realtime(traceTime))
        }
        return nil
    }

    /// `key=value key=value` into a dictionary (values hold no spaces in these four formats).
    static func fields(_ text: Substring) -> [Substring: Substring] {
        var fields: [Substring: Substring] = [:]
        for word in text.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[word[..<equals]] = word[word.index(after: equals)...]
        }
        return fields
    }

    private static func event(_ name: String, _ fields: [Substring: Substring], time: EpochTime) -> KernelEvent? {
        switch name {
        case "inet_sock_set_state":
            guard fields["protocol"] == "IPPROTO_TCP",
                  let from = fields["oldstate"].flatMap(TCPState.init(name:)),
                  let to = fields["newstate"].flatMap(TCPState.init(name:)) else { return nil }
            return pairEvent(fields, time: time, kind: .state(from: from, to: to, source: .tracepoint))
        case "tcp_receive_reset":
            return pairEvent(fields, time: time, kind: .resetReceived)
        case "tcp_retransmit_synack":
            return pairEvent(fields, time: time, kind: .synackRetransmit)
        case "tcp_retransmit_skb":
            return pairEvent(fields, time: time, kind: .retransmit)
        default:
            guard let source = fields["src"].flatMap(hostPort), let destination = fields["dest"].flatMap(hostPort)
            else { return nil }
            return KernelEvent(time: time, kind: .resetSent(reason: String(fields["reason"] ?? "NOT_SPECIFIED")),
                               local: source.host, localPort: source.port,
                               remote: destination.host, remotePort: destination.port)
        }
    }

    /// An event with `family sport dport saddr daddr saddrv6 daddrv6` (the socket's own side first).
    private static func pairEvent(_ fields: [Substring: Substring], time: EpochTime, kind: KernelEvent.Kind) -> KernelEvent? {
        let v6 = fields["family"] == "AF_INET6"
        guard let local = fields[v6 ? "saddrv6" : "saddr"], let remote = fields[v6 ? "daddrv6" : "daddr"],
              let sport = fields["sport"].flatMap({ Int($0) }), let dport = fields["dport"].flatMap({ Int($0) })
        else { return nil }
        return KernelEvent(time: time, kind: kind, local: String(local), localPort: sport,
                           remote: String(remote), remotePort: dport)
    }

    /// `127.0.0.1:1` or `[::1]:5000` (tracefs's `%pISpc`).
    static func hostPort(_ text: Substring) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }
}
