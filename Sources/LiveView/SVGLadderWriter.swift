import SocketCore
import Timeline

/// The ladder diagram as one standalone SVG file, for slides and handouts: every connection of
/// the events, one under the other, drawn as the live page draws the selected one.
///
/// The file is plain SVG 1.1: colours and fonts are attributes (no CSS, no script), nothing is
/// linked from outside, and each arrow's `<title>` holds its label and caption, so it opens the
/// same in a browser and in Inkscape.
public enum SVGLadderWriter {
    static let width = 1000

    /// Colours of the light theme of the page, by kind of segment (text always says it too).
    static func colour(ofStep step: String) -> (stroke: String, dash: String?) {
        switch step {
        case "handshake-syn", "handshake-syn-ack", "handshake-ack": return ("#16803c", nil)
        case "syn-retransmit", "syn-ack-retransmit", "retransmit", "probe": return ("#a4318f", "4 6")
        case "data": return ("#0b62b8", nil)
        case "ack", "dup-ack": return ("#6b7280", "10 6")
        case "fin-active", "fin-passive", "teardown-ack": return ("#b45309", nil)
        case "rst": return ("#c81e1e", nil)
        default: return ("#4b5fb3", nil)
        }
    }

    /// The SVG document for a timeline: every connection's ladder, or only `connection`'s.
    public static func svg(_ timeline: [TimelineEvent], connection: Int? = nil) -> String {
        svg(ladderEvents: timeline.compactMap(LadderEvent.init), connection: connection)
    }

    /// The SVG document for `events`: every connection's ladder, or only `connection`'s.
    public static func svg(ladderEvents events: [LadderEvent], connection: Int? = nil) -> String {
        var document = SVGLadderDocument(Ladder(events: events), connection: connection).pieces()
        var out = ""
        while let piece = document.next() { out += piece }
        return out
    }

    /// The document's opening, up to the first connection: its size is the sum of the ladders'.
    static func head(height y: Int) -> String {
        """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(y)" \
            viewBox="0 0 \(width) \(y)" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">
            <title>TCP ladder diagram (sockettutor)</title>
            <rect x="0" y="0" width="\(width)" height="\(y)" fill="#ffffff"/>

            """
    }

    /// One connection's block moved down to `y`, after a rule when it is not the first.
    static func placed(_ block: String, at y: Int, first: Bool) -> String {
        (first ? "" : "<line x1=\"20\" y1=\"\(y - 10)\" x2=\"980\" y2=\"\(y - 10)\" stroke=\"#c9ced4\" stroke-width=\"2\"/>\n")
            + "<g transform=\"translate(0,\(y))\">\n" + block + "</g>\n"
    }

    /// What the document says when it has no connection to draw (it is then 100 high).
    static let noConnection = "<text x=\"500\" y=\"60\" text-anchor=\"middle\" font-size=\"24\" fill=\"#5b6168\">no connection</text>\n"
    static let tail = "</svg>\n"

    /// One connection: its heading, the two ends, then every moment.
    static func block(_ connection: LadderConnection, _ layout: LadderLayout) -> String {
        var out = heading(connection)
        out += lanes(connection, layout)
        for pause in layout.pauses {
            out += text("… \(LadderNumbers.duration(pause.seconds)) later", x: 6, y: pause.y + 5,
                        attributes: "font-size=\"15\" font-style=\"italic\" fill=\"#5b6168\"")
        }
        for call in layout.calls { out += bar(call) }
        for moment in layout.moments {
            switch moment.kind {
            case .arrow(let arrow): out += self.arrow(arrow, y: moment.y, since: connection.firstTime)
            case .state(let change, let side): out += state(change.to, side: side, y: moment.y)
            case .lost(let lost): out += self.lost(lost, y: moment.y, since: connection.firstTime)
            case .callStart, .callEnd: break
            }
        }
        return out
    }

    /// handshake-watch's outcomes in words, as the page's connection list writes them.
    static let outcomeWords = [
        "no-answer": "no answer", "half-closed": "half-closed at the end", "closing": "closing at the end",
        "open": "still open",
    ]

    static func heading(_ connection: LadderConnection) -> String {
        var line = "#\(connection.number)"
        if let summary = connection.summary {
            line += " · " + (summary.connState.map { "\($0) · " } ?? "") + (outcomeWords[summary.outcome] ?? summary.outcome)
        }
        return text(line, x: 6, y: 24, attributes: "font-size=\"18\" font-weight=\"bold\" fill=\"#5b6168\"")
    }

    static func lanes(_ connection: LadderConnection, _ layout: LadderLayout) -> String {
        var out = ""
        for (side, name, x, end) in [(ConnectionSide.client, "client", LadderLayout.clientX, connection.client),
                                     (.server, "server", LadderLayout.serverX, connection.server)] {
            out += text(name, x: x, y: 30, attributes: "font-size=\"26\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#15171a\"")
            out += text(end.description, x: x, y: 56, attributes: "font-size=\"19\" text-anchor=\"middle\" fill=\"#5b6168\"")
            if let state = layout.finalState(side) {
                out += text(state, x: x, y: 82, attributes: "font-size=\"19\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#15171a\"")
            }
            out += "<line x1=\"\(x)\" y1=\"\(LadderLayout.top - 24)\" x2=\"\(x)\" y2=\"\(layout.height - 20)\" stroke=\"#15171a\" stroke-width=\"3\"/>\n"
        }
        return out
    }

    static func arrow(_ arrow: LadderConnection.Arrow, y: Int, since start: Double) -> String {
        let from = arrow.fromClient ? LadderLayout.clientX : LadderLayout.serverX
        let far = arrow.fromClient ? LadderLayout.serverX : LadderLayout.clientX
        let middle = (from + far) / 2
        // A packet the link dropped stops halfway: its head there, then ✗.
        let to = arrow.lostReason == nil ? far : middle
        let direction = far > from ? 1 : -1
        let y1 = y + 22, y2 = y1 + (arrow.lostReason == nil ? LadderLayout.slope : LadderLayout.slope / 2)
        let (stroke, dash) = colour(ofStep: arrow.segment.step)
        var out = "<g stroke=\"\(stroke)\" fill=\"\(stroke)\">\n"
        out += "<title>\(escaped(arrow.label)): \(escaped(arrow.caption))</title>\n"
        out += "<line x1=\"\(from)\" y1=\"\(y1)\" x2=\"\(to - direction * 14)\" y2=\"\(y2 - 1)\" "
            + "stroke-width=\"\(arrow.segment.step == "rst" ? 6 : 3.5)\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")/>\n"
        out += "<polygon stroke=\"none\" points=\"\(to),\(y2) \(to - direction * 20),\(y2 - 9) \(to - direction * 20),\(y2 + 8)\"/>\n"
        if arrow.segment.step == "rst" {
            out += text("✕", x: to - direction * 36, y: y2 + 28, attributes: "stroke=\"none\" font-size=\"24\" font-weight=\"bold\" text-anchor=\"middle\"")
        }
        if arrow.lostReason != nil {
            out += text("✗", x: to + direction * 22, y: y2 + 9, attributes: "stroke=\"none\" font-size=\"28\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#c81e1e\"")
        }
        out += text(arrow.label, x: middle, y: y1 + LadderLayout.slope / 2 - 10,
                    attributes: "stroke=\"none\" font-size=\"21\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#15171a\"")
        out += text(arrow.caption, x: middle, y: y1 + LadderLayout.slope / 2 + 26,
                    attributes: "stroke=\"none\" font-size=\"16\" text-anchor=\"middle\"")
        out += "</g>\n"
        out += text(LadderNumbers.elapsed(arrow.segment.time - start), x: 6, y: y1 + 6, attributes: "font-size=\"15\" fill=\"#5b6168\"")
        return out
    }

    /// A packet the link lost: a dashed arrow from its sender that stops halfway, in ✗.
    static func lost(_ lost: LadderConnection.LostArrow, y: Int, since start: Double) -> String {
        let from = lost.fromClient ? LadderLayout.clientX : LadderLayout.serverX
        let to = (LadderLayout.clientX + LadderLayout.serverX) / 2
        let direction = to > from ? 1 : -1
        let y1 = y + 22, y2 = y1 + LadderLayout.slope / 2
        let stroke = "#c81e1e"
        // `fill` first: not a `<g stroke=` packet arrow, of which there is one per packet that arrived.
        var out = "<g fill=\"\(stroke)\" stroke=\"\(stroke)\">\n"
        out += "<title>\(escaped(lost.label)): the link dropped it</title>\n"
        out += "<line x1=\"\(from)\" y1=\"\(y1)\" x2=\"\(to - direction * 16)\" y2=\"\(y2)\" stroke-width=\"3.5\" stroke-dasharray=\"8 6\"/>\n"
        out += text("✗", x: to, y: y2 + 9, attributes: "stroke=\"none\" font-size=\"28\" font-weight=\"bold\" text-anchor=\"middle\"")
        out += text(lost.label, x: (from + to) / 2 + direction * 40, y: y1 - 4,
                    attributes: "stroke=\"none\" font-size=\"19\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#15171a\"")
        out += "</g>\n"
        out += text(LadderNumbers.elapsed(lost.packet.time - start), x: 6, y: y1 + 6, attributes: "font-size=\"15\" fill=\"#5b6168\"")
        return out
    }

    /// A system call's bar beside its end, the call's name at its top.
    static func bar(_ call: LadderLayout.Call) -> String {
        let client = call.side == .client
        let x = client ? LadderLayout.clientX - 22 - 16 * call.column : LadderLayout.serverX + 12 + 16 * call.column
        var out = "<g fill=\"#7c4dcc\">\n<title>\(escaped("\(call.call.label) pid \(call.call.pid): \(call.call.text)"))</title>\n"
        out += "<rect x=\"\(x)\" y=\"\(call.top)\" width=\"10\" height=\"\(call.bottom - call.top)\" rx=\"3\" fill-opacity=\"0.85\"/>\n"
        out += text("\(call.call.call)()", x: client ? x - 8 : x + 18, y: call.top + 6,
                    attributes: "font-size=\"17\" font-weight=\"bold\" text-anchor=\"\(client ? "end" : "start")\"")
        return out + "</g>\n"
    }

    /// A state change, as a pill beside its end.
    static func state(_ name: String, side: ConnectionSide, y: Int) -> String {
        let width = name.count * 11 + 16
        let x = side == .client ? LadderLayout.clientX - 54 - width : LadderLayout.serverX + 54
        return "<g>\n<rect x=\"\(x)\" y=\"\(y + 4)\" width=\"\(width)\" height=\"26\" rx=\"13\" fill=\"#e8eef7\" stroke=\"#1f2937\"/>\n"
            + text(name, x: x + width / 2, y: y + 23, attributes: "font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#1f2937\"")
            + "</g>\n"
    }

    static func text(_ content: String, x: Int, y: Int, attributes: String) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" \(attributes)>\(escaped(content))</text>\n"
    }

    /// Text and attribute values as XML: the five characters with a meaning in markup, and the
    /// control characters XML 1.0 forbids (a trace line could hold any byte) as U+FFFD.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }
}
