import Timeline

/// The time-sequence graph of one connection as a standalone SVG (Stevens', tcptrace's and
/// Wireshark's "Stream Graph"): sequence number up, time to the right. Each data segment is a
/// vertical bar from its first byte to its last; the receiver's ACK line runs under the bars,
/// its window's right edge (ACK + window) above them. A bar sent again is red, out of order
/// orange; SACK blocks the receiver reports are purple ticks; a zero window is a red dot on the
/// window line.
///
/// The graph plots the direction that sent more payload (the transfer); numbers are relative
/// to that side's initial sequence number, as the text lines print them. Plain SVG 1.1 as the
/// ladder's: attributes, no CSS, no script.
///
/// With the kernel's `tcp-probe` samples of the sender's socket (`--kernel`), two plots under
/// it share its time axis: the congestion window in segments with ssthresh dashed (not drawn
/// while it is still "infinite"), and the smoothed RTT. This is slow start seen from inside the
/// sender, which a capture alone cannot show.
public enum TimeSequenceWriter {
    static let width = 1000.0, height = 620.0
    static let left = 90.0, right = 30.0, top = 60.0, bottom = 70.0

    /// One packet of the connection, as the graph needs it.
    struct Point {
        var time: Double
        var fromSender: Bool
        var sequence: UInt32
        var acknowledgement: UInt32?
        var length: Int
        var window: Int?
        var flags: [String]
        var analysis: [String]
        var sack: [(UInt32, UInt32)]
    }

    /// One `tcp-probe` sample of the sender's socket.
    struct Probe {
        var time: Double
        var congestionWindow: Int
        /// `nil` while ssthresh is the kernel's "infinite" 0x7fffffff.
        var slowStartThreshold: Int?
        var smoothedRTTMilliseconds: Double
    }

    /// Where the congestion plots go, under the graph, when there are samples.
    static let windowTop = 660.0, windowHeight = 160.0, rttTop = 860.0, rttHeight = 90.0, heightWithProbes = 990.0

    /// The SVG for connection `connection` of the events (nil: the first with payload).
    public static func svg(_ events: [TimelineEvent], connection wanted: Int? = nil) -> String {
        let packets = events.filter { $0.type == "packet" }
        let connection = wanted ?? packets.first { ($0.int("len") ?? 0) > 0 }?.int("conn") ?? packets.first?.int("conn")
        let mine = packets.filter { $0.int("conn") == connection }
        guard let connection, let first = mine.first else { return empty("no connection") }
        // The sender: the endpoint that sent more payload bytes.
        var bytes: [String: Int] = [:]
        for event in mine { bytes[endpoint(event), default: 0] += event.int("len") ?? 0 }
        let senderEndpoint = bytes.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? endpoint(first)
        let points: [Point] = mine.compactMap { event in
            guard let seq = event.int("seq").flatMap(UInt32.init(exactly:)) else { return nil }
            let flags = event["flags"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let sack = (event["sack"]?.arrayValue ?? []).compactMap { pair -> (UInt32, UInt32)? in
                guard let edges = pair.arrayValue, edges.count == 2,
                      let l = edges[0].intValue.flatMap(UInt32.init(exactly:)), let r = edges[1].intValue.flatMap(UInt32.init(exactly:)) else { return nil }
                return (l, r)
            }
            return Point(time: event.time.value, fromSender: endpoint(event) == senderEndpoint, sequence: seq,
                         acknowledgement: flags.contains("ACK") ? event.int("ack").flatMap(UInt32.init(exactly:)) : nil,
                         length: event.int("len") ?? 0, window: event.int("win"), flags: flags,
                         analysis: event["analysis"]?.arrayValue?.compactMap(\.stringValue) ?? [], sack: sack)
        }
        let receiverEndpoint = mine.first { endpoint($0) != senderEndpoint }.map(endpoint) ?? "?"
        let probes: [Probe] = events.compactMap { event in
            guard event.type == "tcp-probe", event.int("conn") == connection,
                  hostPort(event.string("local") ?? "?", event.int("lport") ?? 0) == senderEndpoint,
                  let cwnd = event.int("snd_cwnd"), let ssthresh = event.int("ssthresh"), let srtt = event.int("srtt_us") else { return nil }
            return Probe(time: event.time.value, congestionWindow: cwnd,
                         slowStartThreshold: ssthresh >= infiniteThreshold ? nil : ssthresh,
                         smoothedRTTMilliseconds: Double(srtt) / 1000)
        }
        return draw(points, connection: connection, sender: senderEndpoint, receiver: receiverEndpoint, probes: probes)
    }

    /// `TCP_INFINITE_SSTHRESH`: ssthresh before anything set it.
    static let infiniteThreshold = 0x7fff_ffff

    static func endpoint(_ event: TimelineEvent) -> String {
        hostPort(event.string("src") ?? "?", event.int("sport") ?? 0)
    }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    static func draw(_ points: [Point], connection: Int, sender: String, receiver: String, probes: [Probe] = []) -> String {
        // The base: the sender's SYN, else one before its first sequence number (as Wireshark).
        let base = points.first { $0.fromSender && $0.flags.contains("SYN") }?.sequence
            ?? points.first { $0.fromSender }.map { $0.sequence &- 1 } ?? 0
        func relative(_ value: UInt32) -> Double { Double(Int32(bitPattern: value &- base)) }
        let start = points.first?.time ?? 0
        var maxSequence = 1.0, maxTime = 0.0
        for point in points {
            maxTime = max(maxTime, point.time - start)
            if point.fromSender { maxSequence = max(maxSequence, relative(point.sequence) + Double(point.length)) }
            if !point.fromSender, let ack = point.acknowledgement {
                maxSequence = max(maxSequence, relative(ack) + Double(min(point.window ?? 0, Int(maxSequence * 0.25 + 65_536))))
            }
        }
        if maxTime <= 0 { maxTime = 0.001 }
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ time: Double) -> Double { left + (time - start) / maxTime * plotWidth }
        func y(_ sequence: Double) -> Double { top + plotHeight - max(0, min(sequence, maxSequence)) / maxSequence * plotHeight }

        var body = axes(maxTime: maxTime, maxSequence: maxSequence, x: x, y: y, start: start)
        // The ACK line and the window's right edge, as steps: each holds until the next ACK.
        var ackPath = "", windowPath = "", zeroDots = ""
        var lastAck: (Double, Double)?, lastEdge: (Double, Double)?
        for point in points where !point.fromSender {
            guard let ack = point.acknowledgement else { continue }
            let acked = relative(ack)
            let px = x(point.time)
            if let (_, previous) = lastAck { ackPath += " L\(f(px)),\(f(y(previous)))" }
            ackPath += (lastAck == nil ? "M" : " L") + "\(f(px)),\(f(y(acked)))"
            lastAck = (px, acked)
            if let window = point.window {
                let edge = acked + Double(window)
                if let (_, previous) = lastEdge { windowPath += " L\(f(px)),\(f(y(previous)))" }
                windowPath += (lastEdge == nil ? "M" : " L") + "\(f(px)),\(f(y(edge)))"
                lastEdge = (px, edge)
                if window == 0 { zeroDots += "<circle cx=\"\(f(px))\" cy=\"\(f(y(edge)))\" r=\"3\" fill=\"#c81e1e\"/>\n" }
            }
            for (l, r) in point.sack {
                body += "<line x1=\"\(f(px))\" y1=\"\(f(y(relative(l))))\" x2=\"\(f(px))\" y2=\"\(f(y(relative(r))))\" "
                    + "stroke=\"#7c3aed\" stroke-width=\"3\" opacity=\"0.7\"><title>SACK \(Int(relative(l)))-\(Int(relative(r)))</title></line>\n"
            }
        }
        let end = x(start + maxTime)
        if let (_, acked) = lastAck { ackPath += " L\(f(end)),\(f(y(acked)))" }
        if let (_, edge) = lastEdge { windowPath += " L\(f(end)),\(f(y(edge)))" }
        if !windowPath.isEmpty {
            body += "<path d=\"\(windowPath)\" fill=\"none\" stroke=\"#a3a3a3\" stroke-width=\"1.5\"><title>receive window: ACK + win</title></path>\n"
        }
        if !ackPath.isEmpty {
            body += "<path d=\"\(ackPath)\" fill=\"none\" stroke=\"#16803c\" stroke-width=\"1.5\"><title>ACK: every byte below is acknowledged</title></path>\n"
        }
        body += zeroDots
        // The data segments, one bar each.
        var retransmissions = 0
        for point in points where point.fromSender && (point.length > 0 || point.analysis.contains("zero-window-probe")) {
            let from = relative(point.sequence), to = from + Double(max(point.length, 1))
            let resent = point.analysis.contains { $0.hasSuffix("retransmission") }
            if resent { retransmissions += 1 }
            let colour = resent ? "#c81e1e" : point.analysis.contains("out-of-order") ? "#d97706"
                : point.analysis.contains("zero-window-probe") ? "#7c3aed" : "#0b62b8"
            let px = f(x(point.time))
            let words = ([String(format0: from + 1) + "-" + String(format0: to)] + point.analysis).joined(separator: ", ")
            body += "<line x1=\"\(px)\" y1=\"\(f(y(from)))\" x2=\"\(px)\" y2=\"\(f(y(to)))\" stroke=\"\(colour)\" stroke-width=\"\(resent ? 2.5 : 1.5)\">"
                + "<title>\(escape(words))</title></line>\n"
            if resent {
                body += "<circle cx=\"\(px)\" cy=\"\(f(y(to)))\" r=\"3.5\" fill=\"none\" stroke=\"#c81e1e\" stroke-width=\"1.5\"/>\n"
            }
        }
        let title = "conn \(connection): \(sender) → \(receiver), time-sequence graph"
        guard !probes.isEmpty else { return document(body + legend(retransmissions: retransmissions), title: title) }
        let lower = congestionPlots(probes, start: start, maxTime: maxTime, x: x)
        return document(body + legend(retransmissions: retransmissions) + lower, title: title, height: heightWithProbes)
    }

    /// The two plots under the graph: cwnd and ssthresh (segments), then srtt (ms). Each value
    /// holds until the next sample (steps), up to the graph's last packet.
    static func congestionPlots(_ probes: [Probe], start: Double, maxTime: Double, x: (Double) -> Double) -> String {
        let shown = probes.filter { $0.time - start >= 0 && $0.time - start <= maxTime }
        guard !shown.isEmpty else { return "" }
        let maxWindow = Double(shown.map { max($0.congestionWindow, $0.slowStartThreshold ?? 0) }.max() ?? 1)
        let windowScale = niceCeiling(max(maxWindow * 1.1, 10))
        let rttScale = niceCeiling(max((shown.map(\.smoothedRTTMilliseconds).max() ?? 0) * 1.1, 0.01))
        func windowY(_ value: Double) -> Double { windowTop + windowHeight - value / windowScale * windowHeight }
        func rttY(_ value: Double) -> Double { rttTop + rttHeight - value / rttScale * rttHeight }
        let end = x(start + maxTime)

        var out = "<line x1=\"\(f(left))\" y1=\"640\" x2=\"\(f(left + 18))\" y2=\"640\" stroke=\"#0b62b8\" stroke-width=\"3\"/>"
            + "<text x=\"\(f(left + 24))\" y=\"644\" font-size=\"13\" fill=\"#1f2328\">cwnd (tcp:tcp_probe, the sender's kernel)</text>\n"
            + "<line x1=\"\(f(left + 330))\" y1=\"640\" x2=\"\(f(left + 348))\" y2=\"640\" stroke=\"#d97706\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
            + "<text x=\"\(f(left + 354))\" y=\"644\" font-size=\"13\" fill=\"#1f2328\">ssthresh</text>\n"
            + "<line x1=\"\(f(left + 440))\" y1=\"640\" x2=\"\(f(left + 458))\" y2=\"640\" stroke=\"#16803c\" stroke-width=\"3\"/>"
            + "<text x=\"\(f(left + 464))\" y=\"644\" font-size=\"13\" fill=\"#1f2328\">srtt (smoothed round-trip time)</text>\n"
        out += plotFrame(top: windowTop, height: windowHeight, scale: windowScale, label: "cwnd (segments)", start: start, maxTime: maxTime, x: x)
        out += plotFrame(top: rttTop, height: rttHeight, scale: rttScale, label: "srtt (ms)", start: start, maxTime: maxTime, x: x)

        // cwnd and srtt: one step path each. ssthresh: a path broken where it is still infinite.
        var window = "", threshold = "", rtt = ""
        var previous: Probe?
        for probe in shown {
            let px = f(x(probe.time))
            if let previous {
                window += " L\(px),\(f(windowY(Double(previous.congestionWindow))))"
                rtt += " L\(px),\(f(rttY(previous.smoothedRTTMilliseconds)))"
                if let old = previous.slowStartThreshold { threshold += " L\(px),\(f(windowY(Double(old))))" }
            }
            window += (previous == nil ? "M" : " L") + "\(px),\(f(windowY(Double(probe.congestionWindow))))"
            rtt += (previous == nil ? "M" : " L") + "\(px),\(f(rttY(probe.smoothedRTTMilliseconds)))"
            if let value = probe.slowStartThreshold {
                threshold += (previous?.slowStartThreshold == nil ? (threshold.isEmpty ? "M" : " M") : " L") + "\(px),\(f(windowY(Double(value))))"
            }
            previous = probe
        }
        if let last = shown.last {
            window += " L\(f(end)),\(f(windowY(Double(last.congestionWindow))))"
            rtt += " L\(f(end)),\(f(rttY(last.smoothedRTTMilliseconds)))"
            if let value = last.slowStartThreshold { threshold += " L\(f(end)),\(f(windowY(Double(value))))" }
        }
        out += "<path d=\"\(window)\" fill=\"none\" stroke=\"#0b62b8\" stroke-width=\"2\"><title>cwnd: segments the sender may have in flight</title></path>\n"
        if !threshold.isEmpty {
            out += "<path d=\"\(threshold)\" fill=\"none\" stroke=\"#d97706\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\">"
                + "<title>ssthresh as the kernel reports it (tcp_current_ssthresh: at least 3/4 of cwnd outside a reduction)</title></path>\n"
        }
        out += "<path d=\"\(rtt)\" fill=\"none\" stroke=\"#16803c\" stroke-width=\"1.5\"><title>srtt: the kernel's smoothed round-trip time</title></path>\n"
        return out
    }

    /// A lower plot's box, its value ticks (0 to `scale`, in 5 steps: whole segments for a
    /// `niceCeiling` of 5 or more), its time ticks and its label.
    static func plotFrame(top: Double, height plotHeight: Double, scale: Double, label: String,
                          start: Double, maxTime: Double, x: (Double) -> Double) -> String {
        let bottomY = top + plotHeight
        var out = "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(plotHeight))\" fill=\"#fbfbfc\" stroke=\"#c9ced4\"/>\n"
        for index in 0...5 {
            let value = scale * Double(index) / 5
            let py = f(bottomY - plotHeight * Double(index) / 5)
            out += "<line x1=\"\(f(left - 6))\" y1=\"\(py)\" x2=\"\(f(left))\" y2=\"\(py)\" stroke=\"#5b6168\"/>\n"
            out += "<text x=\"\(f(left - 10))\" y=\"\(py)\" dy=\"4\" text-anchor=\"end\" font-size=\"13\" fill=\"#5b6168\">\(number(value))</text>\n"
        }
        for index in 0...5 {
            let px = f(x(start + maxTime * Double(index) / 5))
            out += "<line x1=\"\(px)\" y1=\"\(f(bottomY))\" x2=\"\(px)\" y2=\"\(f(bottomY + 6))\" stroke=\"#5b6168\"/>\n"
            out += "<text x=\"\(px)\" y=\"\(f(bottomY + 20))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#5b6168\">\(seconds(maxTime * Double(index) / 5))</text>\n"
        }
        let middle = f(top + plotHeight / 2)
        out += "<text x=\"20\" y=\"\(middle)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1f2328\" transform=\"rotate(-90 20 \(middle))\">\(escape(label))</text>\n"
        return out
    }

    /// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`: an axis's top.
    static func niceCeiling(_ value: Double) -> Double {
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        while power > value { power /= 10 }
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * power >= value { return step * power }
        return 10 * power
    }

    /// An axis value: whole when it is, else up to two decimals (`0.25`, `12.5`).
    static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        if hundredths % 100 == 0 { return String(hundredths / 100) }
        if hundredths % 10 == 0 { return "\(hundredths / 100).\(hundredths % 100 / 10)" }
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func axes(maxTime: Double, maxSequence: Double, x: (Double) -> Double, y: (Double) -> Double, start: Double) -> String {
        var out = "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left - right))\" height=\"\(f(height - top - bottom))\" fill=\"#fbfbfc\" stroke=\"#c9ced4\"/>\n"
        for index in 0...5 {
            let time = start + maxTime * Double(index) / 5
            let px = f(x(time))
            out += "<line x1=\"\(px)\" y1=\"\(f(height - bottom))\" x2=\"\(px)\" y2=\"\(f(height - bottom + 6))\" stroke=\"#5b6168\"/>\n"
            out += "<text x=\"\(px)\" y=\"\(f(height - bottom + 22))\" text-anchor=\"middle\" font-size=\"13\" fill=\"#5b6168\">\(seconds(maxTime * Double(index) / 5))</text>\n"
            let sequence = maxSequence * Double(index) / 5
            let py = f(y(sequence))
            out += "<line x1=\"\(f(left - 6))\" y1=\"\(py)\" x2=\"\(f(left))\" y2=\"\(py)\" stroke=\"#5b6168\"/>\n"
            out += "<text x=\"\(f(left - 10))\" y=\"\(py)\" dy=\"4\" text-anchor=\"end\" font-size=\"13\" fill=\"#5b6168\">\(String(format0: sequence))</text>\n"
        }
        out += "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(height - 25))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#1f2328\">time since the first packet</text>\n"
        out += "<text x=\"20\" y=\"\(f(top + (height - top - bottom) / 2))\" text-anchor=\"middle\" font-size=\"14\" fill=\"#1f2328\" transform=\"rotate(-90 20 \(f(top + (height - top - bottom) / 2)))\">sequence number (bytes)</text>\n"
        return out
    }

    static func legend(retransmissions: Int) -> String {
        let items: [(String, String)] = [("#0b62b8", "data"), ("#c81e1e", "retransmission (\(retransmissions))"), ("#d97706", "out of order"),
                                         ("#16803c", "ACK"), ("#a3a3a3", "ACK + window"), ("#7c3aed", "SACK / probe")]
        var out = "", x = left
        for (colour, words) in items {
            out += "<line x1=\"\(f(x))\" y1=\"44\" x2=\"\(f(x + 18))\" y2=\"44\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
            out += "<text x=\"\(f(x + 24))\" y=\"48\" font-size=\"13\" fill=\"#1f2328\">\(escape(words))</text>\n"
            x += 40 + Double(words.count) * 7.5
        }
        return out
    }

    static func document(_ body: String, title: String, height: Double = height) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="\(Int(width))" height="\(Int(height))" fill="#ffffff"/>
        <text x="\(Int(left))" y="26" font-size="17" font-weight="bold" fill="#1f2328">\(escape(title))</text>

        """ + body + "</svg>\n"
    }

    static func empty(_ words: String) -> String {
        document("<text x=\"500\" y=\"300\" text-anchor=\"middle\" font-size=\"24\" fill=\"#5b6168\">\(escape(words))</text>\n",
                 title: "time-sequence graph (sockettutor)")
    }

    /// A coordinate with one decimal.
    static func f(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        guard let whole = Int(exactly: tenths) else { return "0" }
        return "\(whole / 10).\(abs(whole % 10))"
    }

    static func seconds(_ value: Double) -> String {
        guard value.isFinite, value < 1e9 else { return "?" }
        if value < 1 { return "\(Int((value * 1000).rounded())) ms" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) s"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension String {
    /// A non-negative number without decimals (a sequence number on the axis).
    init(format0 value: Double) {
        self = Int(exactly: value.rounded()).map(String.init) ?? "0"
    }
}
