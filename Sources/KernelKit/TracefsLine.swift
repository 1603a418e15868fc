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
/// name, not split from the left. Read as bytes (the format is ASCII): a burst brings ten lines
/// per connection, and reading them as Swift Characters cost more than everything else together.
/// (Not Timeline's `TraceLine`, which reads our tools' `--trace` lines, strace-style: "trace" in
/// this project means those; tracefs is the kernel's tracing file system.)
public enum TracefsLine {
    /// The events this reader understands, as tracefs names them in a line.
    static let events = ["inet_sock_set_state", "tcp_send_reset", "tcp_receive_reset", "tcp_retransmit_synack",
                         "tcp_retransmit_skb", "tcp_probe"]
    private static let eventBytes = events.map { Array($0.utf8) }
    private static let stateNames = TCPState.allCases.map { (Array($0.description.utf8), $0) }

    public static func parse(_ line: Substring, clock: TraceClock) -> KernelEvent? {
        parse(Array(line.utf8)[...], clock: clock)
    }

    /// One line's bytes, without its newline.
    static func parse(_ line: ArraySlice<UInt8>, clock: TraceClock) -> KernelEvent? {
        guard let (name, marker, fieldsStart) = findEvent(line) else { return nil }
        var stampStart = marker
        while stampStart > line.startIndex && line[stampStart - 1] != 0x20 { stampStart -= 1 }
        guard let traceTime = time(line[stampStart..<marker]) else { return nil }
        let fields = Fields(line[fieldsStart...])
        return event(name, fields, time: clock.realtime(traceTime))
    }

    /// The first `: <known event>: `: the event's index, where the marker starts, where the fields start.
    private static func findEvent(_ line: ArraySlice<UInt8>) -> (Int, Int, Int)? {
        var index = line.startIndex
        while index + 1 < line.endIndex {
            if line[index] == 0x3A && line[index + 1] == 0x20 {   // ": "
                let nameStart = index + 2
                for (number, name) in eventBytes.enumerated() {
                    let nameEnd = nameStart + name.count
                    guard nameEnd + 1 < line.endIndex, line[nameEnd] == 0x3A, line[nameEnd + 1] == 0x20,
                          line[nameStart..<nameEnd].elementsEqual(name) else { continue }
                    return (number, index, nameEnd + 2)
                }
            }
            index += 1
        }
        return nil
    }

    /// `key=value key=value`, in order (values hold no spaces in these formats).
    struct Fields {
        private var pairs: [(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] = []

        init(_ text: ArraySlice<UInt8>) {
            for word in text.split(separator: 0x20) {
                guard let equals = word.firstIndex(of: 0x3D) else { continue }
                pairs.append((word[..<equals], word[(equals + 1)...]))
            }
        }

        subscript(_ key: String) -> ArraySlice<UInt8>? {
            pairs.first { $0.key.elementsEqual(key.utf8) }?.value
        }

        func string(_ key: String) -> String? { self[key].map { String(decoding: $0, as: UTF8.self) } }
        func int(_ key: String) -> Int? { self[key].flatMap(TracefsLine.int) }
        func state(_ key: String) -> TCPState? { self[key].flatMap(TracefsLine.state) }
    }

    private static func event(_ name: Int, _ fields: Fields, time: EpochTime) -> KernelEvent? {
        switch events[name] {
        case "inet_sock_set_state":
            guard fields.string("protocol") == "IPPROTO_TCP",
                  let from = fields.state("oldstate"), let to = fields.state("newstate") else { return nil }
            return pairEvent(fields, time: time, kind: .state(from: from, to: to, source: .tracepoint))
        case "tcp_receive_reset":
            return pairEvent(fields, time: time, kind: .resetReceived)
        case "tcp_retransmit_synack":
            return pairEvent(fields, time: time, kind: .synackRetransmit)
        case "tcp_retransmit_skb":
            return pairEvent(fields, time: time, kind: .retransmit)
        case "tcp_probe":
            return probeEvent(fields, time: time)
        default:
            guard let source = fields["src"].flatMap(hostPort), let destination = fields["dest"].flatMap(hostPort)
            else { return nil }
            return KernelEvent(time: time, kind: .resetSent(reason: fields.string("reason") ?? "NOT_SPECIFIED"),
                               local: source.host, localPort: source.port,
                               remote: destination.host, remotePort: destination.port)
        }
    }

    /// `tcp_probe` (Linux 6.18's format; `src`/`dest` are the socket's own end and its peer's):
    ///
    ///     family=AF_INET src=127.0.0.1:50260 dest=127.0.0.1:47211 mark=0x0 data_len=0 snd_nxt=0xa3dd139c
    ///     snd_una=0xa3db9f9c snd_cwnd=11 ssthresh=2147483647 snd_wnd=95232 srtt=49 rcv_wnd=65536
    ///     sock_cookie=37c0a skbaddr=000000000c503416 skaddr=00000000386e1860
    ///
    /// `snd_nxt`/`snd_una` are hexadecimal (`%#x`), the rest decimal; `srtt` is in microseconds
    /// (the kernel stores `srtt_us >> 3`, see `TCPProbe`).
    private static func probeEvent(_ fields: Fields, time: EpochTime) -> KernelEvent? {
        guard let source = fields["src"].flatMap(hostPort), let destination = fields["dest"].flatMap(hostPort),
              let cwnd = fields["snd_cwnd"].flatMap(wideInt), let ssthresh = fields["ssthresh"].flatMap(wideInt),
              let srtt = fields["srtt"].flatMap(wideInt), let sendWindow = fields["snd_wnd"].flatMap(wideInt),
              let receiveWindow = fields["rcv_wnd"].flatMap(wideInt), let length = fields.int("data_len"),
              let next = fields["snd_nxt"].flatMap(hex32), let unacknowledged = fields["snd_una"].flatMap(hex32)
        else { return nil }
        let probe = TCPProbe(congestionWindow: cwnd, slowStartThreshold: ssthresh, smoothedRTTMicroseconds: srtt,
                             sendWindow: sendWindow, receiveWindow: receiveWindow, sendNext: next,
                             sendUnacknowledged: unacknowledged, dataLength: length)
        return KernelEvent(time: time, kind: .probe(probe), local: source.host, localPort: source.port,
                           remote: destination.host, remotePort: destination.port)
    }

    /// A decimal `u32` (at most 10 digits: ssthresh's 2147483647).
    static func wideInt(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard bytes.count <= 10, let value = int64(bytes), value <= Int64(UInt32.max) else { return nil }
        return Int(value)
    }

    /// `0xa3db9f9c` (`%#x`; zero prints as `0`).
    static func hex32(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let digits = bytes.starts(with: "0x".utf8) ? bytes.dropFirst(2) : bytes
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// An event with `family sport dport saddr daddr saddrv6 daddrv6` (the socket's own side first).
    private static func pairEvent(_ fields: Fields, time: EpochTime, kind: KernelEvent.Kind) -> KernelEvent? {
        let v6 = fields.string("family") == "AF_INET6"
        guard let local = fields.string(v6 ? "saddrv6" : "saddr"), let remote = fields.string(v6 ? "daddrv6" : "daddr"),
              let sport = fields.int("sport"), let dport = fields.int("dport") else { return nil }
        return KernelEvent(time: time, kind: kind, local: local, localPort: sport, remote: remote, remotePort: dport)
    }

    /// `TCP_SYN_SENT` or `SYN_SENT`.
    static func state(_ bytes: ArraySlice<UInt8>) -> TCPState? {
        let bare = bytes.starts(with: "TCP_".utf8) ? bytes.dropFirst(4) : bytes
        return stateNames.first { $0.0.elementsEqual(bare) }?.1
    }

    /// A decimal number of at most 9 digits.
    static func int(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// `1796073901.670083` (seconds, then at most 6 decimals).
    static func time(_ bytes: ArraySlice<UInt8>) -> EpochTime? {
        guard let dot = bytes.firstIndex(of: 0x2E) else { return nil }
        let whole = bytes[..<dot], fraction = bytes[(dot + 1)...]
        guard whole.count <= 12, fraction.count <= 6, let seconds = int64(whole), let micros = int64(fraction) else { return nil }
        var scale: Int64 = 1
        for _ in fraction.count..<6 { scale *= 10 }
        return EpochTime(microseconds: seconds * 1_000_000 + micros * scale)
    }

    private static func int64(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    /// `127.0.0.1:1` or `[::1]:5000` (tracefs's `%pISpc`).
    static func hostPort(_ text: ArraySlice<UInt8>) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: 0x3A), let port = int(text[(colon + 1)...]) else { return nil }
        var host = text[..<colon]
        if host.first == 0x5B, host.last == 0x5D { host = host.dropFirst().dropLast() }
        return (String(decoding: host, as: UTF8.self), port)
    }
}
