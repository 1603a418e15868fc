@preconcurrency import Glibc

/// Counts shown when the capture ends.
public struct CaptureStats: Sendable {
    /// Packets libpcap delivered (live: pcap_stats' ps_recv; file: packets read).
    public var received: Int
    /// Packets the kernel dropped because the buffer was full (pcap_stats' ps_drop; 0 for files).
    public var dropped: Int
    /// Packets skipped because they were truncated or malformed.
    public var skipped: Int
    /// TCP packets handled (decoded or skipped): tcpdump's "packets captured".
    public var decoded: Int
    /// Live capture (counts come from the kernel) or a file.
    public var isLive: Bool

    public init(received: Int, dropped: Int, skipped: Int, decoded: Int, isLive: Bool) {
        self.received = received
        self.dropped = dropped
        self.skipped = skipped
        self.decoded = decoded
        self.isLive = isLive
    }
}

/// How times are printed in text and ladder output.
public enum TimeFormat: Sendable {
    /// Local time of day with micro- or nanoseconds, as tcpdump (`21:30:32.123456`).
    case timeOfDay
    /// Seconds since the first packet (`--relative`).
    case relative
}

/// Turns tracked packets and connection summaries into output. One renderer per `--format`.
public protocol Renderer: AnyObject {
    func packet(_ tracked: TrackedPacket)
    func connectionEnded(_ summary: ConnectionSummary)
    func finish(_ stats: CaptureStats)
    /// The buffer the renderer writes into (to flush it).
    var output: OutputBuffer { get }
}

/// ANSI colours, used only on a terminal (`isatty`) without `--no-color` or `NO_COLOR`.
public struct Palette: Sendable {
    public var enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    /// True when stdout is a terminal and neither `--no-color` nor a non-empty NO_COLOR says no.
    public static func wanted(noColorFlag: Bool) -> Bool {
        if noColorFlag { return false }
        if let value = getenv("NO_COLOR"), value.pointee != 0 { return false }
        return isatty(STDOUT_FILENO) == 1
    }

    func colour(for step: Step) -> StaticString {
        switch step {
        case .handshakeSyn, .handshakeSynAck, .handshakeAck: return "\u{1B}[32m"   // green
        case .synRetransmit, .synAckRetransmit: return "\u{1B}[35m"                // magenta
        case .data: return "\u{1B}[36m"                                            // cyan
        case .ack: return "\u{1B}[2m"                                              // dim
        case .finActive, .finPassive, .teardownAck: return "\u{1B}[33m"            // yellow
        case .rst: return "\u{1B}[31m"                                             // red
        case .midstream: return "\u{1B}[34m"                                       // blue
        }
    }

    func start(_ step: Step, _ out: OutputBuffer) {
        if enabled { out.ascii(colour(for: step)) }
    }

    func bold(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[1m") }
    }

    func reset(_ out: OutputBuffer) {
        if enabled { out.ascii("\u{1B}[0m") }
    }
}

/// Writes the capture's counts on stderr as tcpdump does at the end.
public func printStatsLikeTcpdump(_ stats: CaptureStats) {
    let decoded = stats.decoded
    var lines = "\(decoded) packet\(decoded == 1 ? "" : "s") captured\n"
    if stats.isLive {
        lines += "\(stats.received) packet\(stats.received == 1 ? "" : "s") received by filter\n"
        lines += "\(stats.dropped) packet\(stats.dropped == 1 ? "" : "s") dropped by kernel\n"
    }
    if stats.skipped > 0 { lines += "\(stats.skipped) packet\(stats.skipped == 1 ? "" : "s") skipped (truncated or malformed)\n" }
    fputs(lines, stderr)
}

/// Writes a packet's time: time of day (cached per second, localtime_r is not cheap) or relative.
final class TimePrinter {
    let format: TimeFormat
    private var first: Timestamp?
    private var cachedSecond = Int.min
    private var cachedPrefix = ""

    init(format: TimeFormat) { self.format = format }

    func write(_ time: Timestamp, _ out: OutputBuffer) {
        let width = time.isNanosecond ? 9 : 6
        switch format {
        case .timeOfDay:
            if time.seconds != cachedSecond {
                var seconds = time_t(time.seconds)
                var parts = tm()
                localtime_r(&seconds, &parts)
                cachedPrefix = two(parts.tm_hour) + ":" + two(parts.tm_min) + ":" + two(parts.tm_sec) + "."
                cachedSecond = time.seconds
            }
            out.string(cachedPrefix)
            out.zeroPadded(time.fraction, width: width)
        case .relative:
            let base = first ?? time
            if first == nil { first = time }
            let unit = time.isNanosecond ? 1_000_000_000 : 1_000_000
            var seconds = time.seconds - base.seconds
            var fraction = time.fraction - base.fraction
            if fraction < 0 { fraction += unit; seconds -= 1 }
            out.decimal(seconds)
            out.byte(46)
            out.zeroPadded(fraction, width: width)
        }
    }

    private func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
