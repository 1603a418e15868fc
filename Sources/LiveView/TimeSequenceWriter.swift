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
        return draw(points, connection: connection, sender: senderEndpoint, receiver: receiverEndpoint)
    }

    static func endpoint(_ event: TimelineEvent) -> String {
        let address = event.string("src") ?? "?"
        let port = event.int("sport") ?? 0
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    static func draw(_ points: [Point], connection: Int, sender: String, receiver: String) -> String {
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
        return document(body + legend(retransmissions: retransmissions), title: title)
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

    static func document(_ body: String, title: String) -> String {
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
