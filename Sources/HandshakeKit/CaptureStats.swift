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
    /// When the capture ended: the last packet's stamp, or the clock's time when no packet came.
    /// The `time` of the JSON `stats` object (EVENTS.md: every object has one).
    public var endTime: Timestamp
    /// `-- COMMAND` or `--pid` without a filter: TCP packets of other programs, not shown.
    public var otherPrograms = 0

    public init(received: Int, dropped: Int, skipped: Int, decoded: Int, isLive: Bool, endTime: Timestamp) {
        self.received = received
        self.dropped = dropped
        self.skipped = skipped
        self.decoded = decoded
        self.isLive = isLive
        self.endTime = endTime
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
