/// What a segment is in the flow of its connection, beyond its flags: Wireshark's "TCP
/// Analysis" findings (the `tcp.analysis.*` fields), under the names the JSON output uses.
///
/// A segment can carry several (a duplicate ACK that also advertises a zero window). The rules
/// that set them are in `StreamAnalysis`; `names` lists them in the order they are shown.
public struct TCPAnalysis: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Bytes sent again after a timeout (RTO): no ACK covered them in time.
    public static let retransmission = TCPAnalysis(rawValue: 1 << 0)
    /// Bytes sent again right after duplicate ACKs asked for them (RFC 5681 §3.2), without
    /// waiting for the timer.
    public static let fastRetransmission = TCPAnalysis(rawValue: 1 << 1)
    /// Bytes sent again that the receiver had already acknowledged.
    public static let spuriousRetransmission = TCPAnalysis(rawValue: 1 << 2)
    /// Old bytes arriving within one round trip of newer ones: reordered on the way.
    public static let outOfOrder = TCPAnalysis(rawValue: 1 << 3)
    /// The same ACK again, with the same window, carrying no data: the receiver got a segment
    /// beyond a hole and still waits for the hole's first byte.
    public static let duplicateAck = TCPAnalysis(rawValue: 1 << 4)
    /// This segment starts beyond the highest byte seen so far: bytes between were not seen
    /// (lost before the capture point, or dropped by the capture).
    public static let previousSegmentNotCaptured = TCPAnalysis(rawValue: 1 << 5)
    /// This ACK covers bytes the capture never saw going the other way.
    public static let ackOfUnseenSegment = TCPAnalysis(rawValue: 1 << 6)
    /// The sender advertises a window of 0: its receive buffer is full.
    public static let zeroWindow = TCPAnalysis(rawValue: 1 << 7)
    /// The persist timer's question "is there room yet?" to a peer that advertised 0.
    public static let zeroWindowProbe = TCPAnalysis(rawValue: 1 << 8)
    /// The answer to a zero-window probe that repeats the previous ACK and window 0.
    public static let zeroWindowProbeAck = TCPAnalysis(rawValue: 1 << 9)
    /// This segment fills the peer's advertised window to its edge: the sender must now wait.
    public static let windowFull = TCPAnalysis(rawValue: 1 << 10)
    /// A bare ACK that only changes the advertised window (the program read data).
    public static let windowUpdate = TCPAnalysis(rawValue: 1 << 11)
    /// SO_KEEPALIVE's probe: 0 or 1 byte at one before the next sequence number.
    public static let keepAlive = TCPAnalysis(rawValue: 1 << 12)
    /// The answer to a keep-alive: the same ACK again.
    public static let keepAliveAck = TCPAnalysis(rawValue: 1 << 13)

    /// Every finding with its JSON name (Wireshark's field in the comment), in display order.
    public static let names: [(TCPAnalysis, StaticString)] = [
        (.retransmission, "retransmission"),                            // tcp.analysis.retransmission
        (.fastRetransmission, "fast-retransmission"),                   // tcp.analysis.fast_retransmission
        (.spuriousRetransmission, "spurious-retransmission"),           // tcp.analysis.spurious_retransmission
        (.outOfOrder, "out-of-order"),                                  // tcp.analysis.out_of_order
        (.duplicateAck, "duplicate-ack"),                               // tcp.analysis.duplicate_ack
        (.previousSegmentNotCaptured, "previous-segment-not-captured"), // tcp.analysis.lost_segment
        (.ackOfUnseenSegment, "ack-of-unseen-segment"),                 // tcp.analysis.ack_lost_segment
        (.zeroWindow, "zero-window"),                                   // tcp.analysis.zero_window
        (.zeroWindowProbe, "zero-window-probe"),                        // tcp.analysis.zero_window_probe
        (.zeroWindowProbeAck, "zero-window-probe-ack"),                 // tcp.analysis.zero_window_probe_ack
        (.windowFull, "window-full"),                                   // tcp.analysis.window_full
        (.windowUpdate, "window-update"),                               // tcp.analysis.window_update
        (.keepAlive, "keep-alive"),                                     // tcp.analysis.keep_alive
        (.keepAliveAck, "keep-alive-ack"),                              // tcp.analysis.keep_alive_ack
    ]

    /// Any of the three retransmissions.
    public static let anyRetransmission: TCPAnalysis = [.retransmission, .fastRetransmission, .spuriousRetransmission]

    /// The JSON names, in display order.
    public var nameList: [String] { Self.names.filter { contains($0.0) }.map { "\($0.1)" } }
}

/// What the analysis found about one segment, with the numbers its explanation needs.
public struct SegmentAnalysis: Sendable {
    public var findings: TCPAnalysis = []
    /// For a duplicate ACK: which one in the row (Wireshark's "dup ACK #2").
    public var duplicateAckNumber = 0
    /// For a fast retransmission: how many duplicate ACKs asked for it.
    public var duplicateAcksBefore = 0
    /// For a retransmission: seconds since these bytes were first sent (nil when that copy
    /// was not captured), and since the highest segment before it (Wireshark's `tcp.analysis.rto`).
    public var sinceOriginal: Double?
    public var sinceHighest: Double?
    /// For a retransmission by timeout: how many times in a row this segment was sent again
    /// (1, 2, 3...: each wait twice the last, RFC 6298 §5.5).
    public var backoff = 0
    /// For previous-segment-not-captured: the raw sequence number of the first missing byte.
    public var missingFrom: UInt32?
}

/// One direction's running state: the highest byte sent, the last ACK and window it
/// advertised, and the counters of its summary. Wireshark's `tcp_flow_t`.
struct FlowAnalysis {
    /// One past the highest sequence number sent (a SYN or FIN counts one), nil until seen.
    var nextSequence: UInt32?
    var nextSequenceTime = 0.0
    /// One past the highest byte sent without a gap before it: an ACK beyond it acknowledges
    /// something the capture did not see.
    var maxSequenceToBeAcked: UInt32?
    /// The last acknowledgement number and raw window this side sent, and when.
    var lastAck: UInt32?
    var lastAckTime = 0.0
    var window: UInt16?
    /// The last window in bytes (scaled), nil while the scale is unknown.
    var windowBytes: Int?
    /// Duplicate ACKs in a row from this side.
    var duplicateAcks = 0
    /// The findings of this side's last segment (a keep-alive's answer looks for them).
    var lastFindings: TCPAnalysis = []
    /// When each unacknowledged segment was first sent, to time its retransmissions.
    var sent = SentSegments()
    /// The segment the last timeout retransmission resent, and how many times in a row.
    var lastRetransmitted: UInt32?
    var backoff = 0

    // The summary's counters.
    var retransmittedSegments = 0
    var retransmittedBytes: UInt64 = 0
    var duplicateAckCount = 0
    var highestBackoff = 0
    var zeroWindowSince: Double?
    var zeroWindowSeconds = 0.0
}

/// The first transmission time of each segment in flight, oldest first, bounded: at the limit
/// the oldest is forgotten (its retransmission then says "first copy not captured").
struct SentSegments {
    static let limit = 256
    private var items: [(sequence: UInt32, end: UInt32, time: Double)] = []
    private var head = 0

    mutating func append(sequence: UInt32, end: UInt32, time: Double) {
        if items.count - head >= Self.limit { head += 1 }
        items.append((sequence, end, time))
    }

    /// Forgets the segments an ACK covers entirely.
    mutating func acknowledge(_ ack: UInt32) {
        while head < items.count && sequenceAtOrAfter(ack, items[head].end) { head += 1 }
        if head == items.count {
            if head > 0 { items.removeAll(keepingCapacity: true); head = 0 }
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }

    /// When the byte `sequence` was first sent, if that copy is remembered.
    func firstSent(_ sequence: UInt32) -> Double? {
        var index = head
        while index < items.count {
            let item = items[index]
            if sequenceAtOrAfter(sequence, item.sequence) && !sequenceAtOrAfter(sequence, item.end) { return item.time }
            index += 1
        }
        return nil
    }
}

/// Wireshark's TCP analysis of one connection, rule for rule as the User's Guide ("TCP
/// Analysis") and `tcp_analyze_sequence_number` in packet-tcp.c define them, in their order of
/// precedence, with one deviation for Linux (docs/EVENTS.md, "TCP analysis"):
///
/// - Linux probes a zero window with a bare segment at SND.UNA − 1 (tcp_write_wakeup()).
///   Wireshark calls it a keep-alive; here, when the peer's last window was 0, it is a
///   zero-window probe, and the peer's answer a zero-window-probe ACK.
///
/// Sequence numbers compare modulo 2^32 (RFC 9293 §3.4), so a connection whose numbers wrap
/// past 2^32 is analysed as any other.
struct StreamAnalysis {
    var client = FlowAnalysis()
    var server = FlowAnalysis()
    /// The most recent SYN's time, and the initial RTT (SYN to the first ACK after it):
    /// Wireshark's threshold between out-of-order and retransmission. 3 ms until known.
    var lastSynTime: Double?
    var initialRTT: Double?

    mutating func analyze(_ packet: Packet, fromClient: Bool, windowBytes: Int?) -> SegmentAnalysis {
        let flags = packet.tcp.flags
        let time = packet.time.value
        if flags.contains(.syn) && !flags.contains(.ack) { lastSynTime = time }
        if initialRTT == nil, !flags.contains(.syn), flags.contains(.ack), let lastSynTime {
            initialRTT = time - lastSynTime
        }
        let threshold = initialRTT ?? 0.003
        if fromClient {
            return Self.analyze(packet, sender: &client, receiver: &server, windowBytes: windowBytes, threshold: threshold)
        }
        return Self.analyze(packet, sender: &server, receiver: &client, windowBytes: windowBytes, threshold: threshold)
    }

    /// The rules, for a segment from `sender` (Wireshark's fwd) to `receiver` (rev).
    static func analyze(_ packet: Packet, sender fwd: inout FlowAnalysis, receiver rev: inout FlowAnalysis,
                        windowBytes: Int?, threshold: Double) -> SegmentAnalysis {
        let tcp = packet.tcp
        let time = packet.time.value
        let seq = tcp.sequence
        let length = UInt32(truncatingIfNeeded: tcp.payloadLength)
        let ack: UInt32? = tcp.flags.contains(.ack) ? tcp.acknowledgement : nil
        let control = !tcp.flags.isDisjoint(with: [.syn, .fin, .rst])
        var result = SegmentAnalysis()
        var found: TCPAnalysis = []
        let atNext = fwd.nextSequence == seq
        let sameAck = ack == fwd.lastAck

        classify: do {
            // A zero-window probe as Wireshark knows it: the next byte alone while the peer's
            // window is 0.
            if length == 1, rev.window == 0, atNext {
                found.insert(.zeroWindowProbe)
                break classify
            }
            if tcp.window == 0 && !control { found.insert(.zeroWindow) }
            if let next = fwd.nextSequence, seq != next, sequenceAtOrAfter(seq, next), !tcp.flags.contains(.rst) {
                found.insert(.previousSegmentNotCaptured)
                result.missingFrom = next
            }
            // One byte back: a keep-alive, or (our deviation) Linux's zero-window probe when the
            // peer's window is 0.
            if length <= 1, let next = fwd.nextSequence, seq == next &- 1, !control {
                found.insert(rev.window == 0 ? .zeroWindowProbe : .keepAlive)
            }
            if length == 0, tcp.window != 0, let window = fwd.window, tcp.window != window, atNext, sameAck, !control {
                found.insert(.windowUpdate)
            }
            if length > 0, !control, let peerWindow = rev.windowBytes, let peerAck = rev.lastAck,
               seq &+ length == peerAck &+ UInt32(truncatingIfNeeded: peerWindow) {
                found.insert(.windowFull)
            }
            let repeatsLast = length == 0 && tcp.window == fwd.window && atNext && sameAck && ack != nil && !control
            if repeatsLast && tcp.window != 0 && rev.lastFindings.contains(.keepAlive) {
                found.insert(.keepAliveAck)
                break classify
            }
            if repeatsLast && tcp.window == 0 && rev.lastFindings.contains(.zeroWindowProbe) {
                found.insert(.zeroWindowProbeAck)
                break classify
            }
            if repeatsLast && tcp.window != 0 {
                fwd.duplicateAcks += 1
                fwd.duplicateAckCount += 1
                found.insert(.duplicateAck)
                result.duplicateAckNumber = fwd.duplicateAcks
            }
        }
        if !sameAck { fwd.duplicateAcks = 0 }

        if let ack, let highest = rev.maxSequenceToBeAcked, ack != highest, sequenceAtOrAfter(ack, highest) {
            found.insert(.ackOfUnseenSegment)
            rev.maxSequenceToBeAcked = rev.nextSequence   // named once per gap
        }

        if (length > 0 || control && !tcp.flags.contains(.rst)) && found.isDisjoint(with: [.keepAlive, .zeroWindowProbe]) {
            classifyResend(seq: seq, length: length, control: !tcp.flags.isDisjoint(with: [.syn, .fin]), time: time, fwd: &fwd, rev: rev, threshold: threshold,
                           found: &found, result: &result)
        }

        // Remember this segment for the next ones.
        let end = seq &+ length &+ (tcp.flags.isDisjoint(with: [.syn, .fin]) ? 0 : 1)
        if !found.contains(.zeroWindowProbe) {
            if fwd.nextSequence.map({ end != $0 && sequenceAtOrAfter(end, $0) }) ?? true {
                if length > 0 { fwd.sent.append(sequence: fwd.nextSequence.map { sequenceAtOrAfter(seq, $0) ? seq : $0 } ?? seq, end: end, time: time) }
                fwd.nextSequence = end
                fwd.nextSequenceTime = time
            }
            if fwd.maxSequenceToBeAcked == nil || fwd.maxSequenceToBeAcked == seq {
                fwd.maxSequenceToBeAcked = fwd.nextSequence
            }
        }
        if tcp.window == 0 && !tcp.flags.contains(.rst) {
            if fwd.zeroWindowSince == nil { fwd.zeroWindowSince = time }
        } else if let since = fwd.zeroWindowSince {
            fwd.zeroWindowSeconds += max(0, time - since)
            fwd.zeroWindowSince = nil
        }
        fwd.window = tcp.window
        fwd.windowBytes = windowBytes
        fwd.lastAck = ack
        fwd.lastAckTime = time
        fwd.lastFindings = found
        if let ack { rev.sent.acknowledge(ack) }
        result.findings = found
        return result
    }

    /// Old bytes again: spurious, fast retransmission, out-of-order or plain retransmission,
    /// tested in Wireshark's order (4.x). Out-of-order versus retransmission is decided by time: old
    /// bytes within one initial RTT of the newest are taken as reordered, later ones as resent.
    private static func classifyResend(seq: UInt32, length: UInt32, control: Bool, time: Double, fwd: inout FlowAnalysis,
                                       rev: FlowAnalysis, threshold: Double, found: inout TCPAnalysis,
                                       result: inout SegmentAnalysis) {
        var notAdvanced = fwd.nextSequence.map { seq != $0 && sequenceAtOrAfter($0, seq) } ?? false
        // More than one byte starting one before the next: new data after a probe, not a resend.
        if length > 1, let next = fwd.nextSequence, next &- 1 == seq { notAdvanced = false }
        let kind: TCPAnalysis?
        let end = seq &+ length &+ (control ? 1 : 0)
        if length > 0, let peerAck = rev.lastAck, sequenceAtOrAfter(peerAck, seq &+ length) {
            kind = .spuriousRetransmission
        } else if notAdvanced && rev.duplicateAcks >= 2 && rev.lastAck == seq && time - rev.lastAckTime < 0.020 {
            kind = .fastRetransmission
            result.duplicateAcksBefore = rev.duplicateAcks
        } else if notAdvanced && time - fwd.nextSequenceTime < threshold && fwd.nextSequence != end {
            kind = .outOfOrder
        } else if notAdvanced {
            kind = .retransmission
        } else {
            kind = nil
        }
        guard let kind else { return }
        found.insert(kind)
        guard kind != .outOfOrder else { return }
        result.sinceOriginal = fwd.sent.firstSent(seq).map { time - $0 }
        result.sinceHighest = time - fwd.nextSequenceTime
        fwd.retransmittedSegments += 1
        fwd.retransmittedBytes += UInt64(length)
        // The back-off counts the timer's copies: one sent sooner than Linux's smallest RTO came
        // from loss recovery instead.
        if kind == .retransmission && (result.sinceOriginal ?? AnalysisExplanation.linuxMinimumRTO) >= AnalysisExplanation.linuxMinimumRTO {
            fwd.backoff = fwd.lastRetransmitted == seq ? fwd.backoff + 1 : 1
            fwd.lastRetransmitted = seq
            fwd.highestBackoff = max(fwd.highestBackoff, fwd.backoff)
            result.backoff = fwd.backoff
        }
    }
}
