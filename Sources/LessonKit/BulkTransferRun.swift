import Foundation

/// A bulk transfer as a projector shows it: one line per second of it instead of one per packet.
///
/// A watcher in a lesson prints every segment; 20 MB through loopback is thousands of lines that
/// scroll the interesting ones (the handshake, a zero window, the FIN) off the screen. The runner
/// holds the plain data segments and ACKs of one connection as they come, and shows a run of
/// them as one line, `#1 … 212 data segments, 212 ACKs, 2.1 MB in 0.8 s …`. Only the plain
/// segments are held: anything TCP analysis names (a retransmission, a duplicate ACK, a window
/// probe) or a flag other than ACK and PSH ends the run and is shown as it came. A window of 0
/// does not end it (a deadlock is hundreds of them) but is counted in the summary
/// (`… 95 advertising win 0 …`). The lines held stay available in full (`v` at the prompt, or
/// `--verbose`).
struct BulkTransferRun {
    /// A run is shown as is when it has this many lines or fewer: a few segments read better
    /// whole than summed up.
    static let shownWhole = 10
    /// A run is cut at one second of capture time, so a long transfer gets one line a second.
    static let secondsPerLine = 1.0

    /// One handshake-watch packet line that a run may hold.
    struct Segment {
        let text: String
        let time: Double
        let connection: Int
        let length: Int
        let zeroWindow: Bool
        /// The time as printed (`12:12:16.915` or `12:12:16.915312`).
        let printedTime: String
        /// The whole line, when `text` is the brief form the runner shows (`LinesForm.paired`).
        var whole: String?
    }

    private(set) var segments: [Segment] = []

    var isEmpty: Bool { segments.isEmpty }

    /// Whether `segment` continues this run: the same connection, within the run's second.
    func accepts(_ segment: Segment) -> Bool {
        guard let first = segments.first else { return true }
        return first.connection == segment.connection && segment.time - first.time < Self.secondsPerLine
    }

    mutating func append(_ segment: Segment) {
        segments.append(segment)
    }

    /// The lines to show for the run: the lines themselves when it is short, else the one
    /// summary line.
    var shown: [String] {
        guard segments.count > Self.shownWhole, let first = segments.first, let last = segments.last else {
            return segments.map(\.text)
        }
        let data = segments.filter { $0.length > 0 }
        let acks = segments.count - data.count
        let bytes = data.reduce(0) { $0 + $1.length }
        let span = max(0, last.time - first.time)
        let seconds = span < 0.05 ? "under 0.1" : String(format: "%.1f", span)
        let closed = segments.filter(\.zeroWindow).count
        return ["\(first.printedTime) #\(first.connection) … \(data.count) data segment\(data.count == 1 ? "" : "s"), "
                + "\(acks) ACK\(acks == 1 ? "" : "s"), \(Self.size(bytes)) in \(seconds) s"
                + (closed > 0 ? ", \(closed) advertising win 0" : "") + " …"]
    }

    /// Decimal units, as a transfer rate is quoted: `512 B`, `14.5 kB`, `2.1 MB`.
    static func size(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        if bytes < 1_000_000 { return String(format: "%.1f kB", Double(bytes) / 1e3) }
        return String(format: "%.1f MB", Double(bytes) / 1e6)
    }

    // MARK: - Which lines a run holds

    /// `12:12:16.915 #1 c→s [ACK] seq 2897 ack 1 len 1448 win 64512  data` (--brief) or the full
    /// form, whose explanation says the same in words. Anything else is not a segment of a run.
    private static let packetLine = try! NSRegularExpression(pattern:
        #"^(\d\d:\d\d:\d\d\.\d+|\d+\.\d+) #(\d+) .*? \[(ACK|PSH,ACK)\] seq \d+(?::\d+)? ack \d+ len (\d+) win (\d+)(?: <[^>]*>)?  (.*)$"#)

    /// The explanations of an uneventful segment, brief and full; everything else is news.
    private static let plainExplanation = try! NSRegularExpression(pattern:
        #"^(data|ack|\S+ sends \d+ bytes \(its send\(\); the \S+ recv\(\) returns them\)|\S+ kernel acknowledges every byte before \d+)$"#)

    /// The segment a watcher's line shows, if it is one a run may hold.
    static func segment(_ text: String) -> Segment? {
        let whole = NSRange(text.startIndex..., in: text)
        guard let match = packetLine.firstMatch(in: text, range: whole) else { return nil }
        func group(_ index: Int) -> String {
            Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
        }
        guard let connection = Int(group(2)), let length = Int(group(4)), let window = Int(group(5)) else {
            return nil
        }
        let explanation = group(6)
        guard plainExplanation.firstMatch(in: explanation, range: NSRange(explanation.startIndex..., in: explanation)) != nil,
              let time = seconds(group(1)) else { return nil }
        return Segment(text: text, time: time, connection: connection, length: length, zeroWindow: window == 0,
                       printedTime: group(1))
    }

    /// `12:12:16.915312` (time of day) or `0.004213` (relative) as seconds.
    private static func seconds(_ printed: String) -> Double? {
        let parts = printed.split(separator: ":")
        guard parts.count == 3 else { return Double(printed) }
        guard let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2]) else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }
}
