/// The words for each step of a connection: one table, as tcpdump keeps one `tcp_flag_values`
/// for every printer. handshake-watch's text lines and `--brief` (StepExplanation), its ladder
/// (LadderRenderer), the SVG ladder (LadderCaption) and the projector page (served as
/// `words.json`) all read their words here, so they cannot drift apart.
///
/// A key is a packet's `step` (EVENTS.md), or `step/variant` where one step reads differently
/// (`ack/fin`: the ACK of a FIN). Each has a `caption` (the few words under an arrow), a
/// `sentence` (the text line's explanation, and the page's details panel) and a `brief` name
/// (`--brief`). Templates name what the renderer fills in:
///
///     {sender} {receiver}  client or server
///     {bytes}              `5 bytes`, `1 byte`
///     {ack}                the relative acknowledgement number
///     {call}               the call that sent the FIN (`close()`, or the recorded one)
///     {closer} {other}     the side in TIME_WAIT, and the other one
///     {rtt} {gap} {after} {since} {copy} {kind} {n} {port} {listener} {maybe}: see the entries using them
///
/// The TCP analysis's findings (`finding/name`, EVENTS.md's `analysis` names) have their words
/// here too: the caption an arrow shows, and the sentence of the text line and the page's details
/// panel (AnalysisExplanation picks the sentences and fills them; the page does the same from a
/// JSON event's fields). A finding that reads differently by case has sentence variants,
/// `finding/name/variant` (`finding/retransmission/backoff`): only the sentence of a variant is
/// read, so its caption and brief are empty, and the caption order (`findingOrder`) skips it.
/// `sack` and `kernel/...` are sentences about a segment that are not findings. In a finding's
/// sentence `{bytes}` is the range of the segment's bytes (`bytes 1449–2896`, relative, both ends
/// included; `byte 1` for one), not their count.
public enum StepWording {
    public struct Words: Sendable, Equatable {
        public let caption: String
        public let sentence: String
        public let brief: String
    }

    /// Every entry, in the order of EVENTS.md's steps.
    public static let entries: [(key: String, words: Words)] = [
        ("handshake-syn", Words(caption: "1/3 connect() sends SYN, blocks",
                                sentence: "handshake 1/3: the client's connect() sends SYN and blocks", brief: "open 1/3")),
        ("handshake-syn-ack", Words(caption: "2/3 server kernel answers (not accept())",
                                    sentence: "handshake 2/3: the server's kernel answers from the listen queue (accept() is not involved)",
                                    brief: "open 2/3")),
        // {rtt}: ` (handshake RTT 0.032 ms)`, or nothing when the SYN was not seen.
        ("handshake-ack", Words(caption: "3/3 connect() returns; waits for accept()",
                                sentence: "handshake 3/3: connect() returns; the connection waits in the accept queue until accept() takes it{rtt}",
                                brief: "open 3/3")),
        // {after}: ` after 1.017 s`; {gap}: `, 1.017 s after the last`; {copy}: 2 for the first copy again.
        ("syn-retransmit", Words(caption: "SYN again{after}: no answer",
                                 sentence: "SYN retransmitted (copy {copy}{gap}): no answer yet; a full listen backlog drops SYNs, or nothing is there",
                                 brief: "SYN again")),
        ("syn-ack-retransmit", Words(caption: "SYN-ACK again{after}",
                                     sentence: "SYN-ACK retransmitted (copy {copy}{gap}): the client's ACK did not arrive, or a full accept queue dropped it",
                                     brief: "SYN-ACK again")),
        ("data", Words(caption: "{sender} send() → {receiver} recv()",
                       sentence: "{sender} sends {bytes} (its send(); the {receiver}'s recv() returns them)", brief: "data")),
        ("data/half-close", Words(caption: "{sender} send() after peer's FIN (half-close)",
                                  sentence: "{sender} sends {bytes} (its send(); the {receiver}'s recv() returns them); "
                                      + "half-close: the {sender} still sends after the {receiver}'s FIN", brief: "data")),
        ("ack", Words(caption: "{sender} kernel ACKs", sentence: "{sender}'s kernel acknowledges every byte before {ack}", brief: "ack")),
        ("ack/fin", Words(caption: "{sender} kernel ACKs the FIN (CLOSE_WAIT)",
                          sentence: "{sender}'s kernel acknowledges the {receiver}'s FIN: the {receiver} waits in FIN_WAIT_2, "
                              + "the {sender} is in CLOSE_WAIT until its program calls close()", brief: "ack")),
        ("ack/fins-crossed", Words(caption: "{sender} kernel ACKs the FIN (FINs crossed)",
                                   sentence: "{sender}'s kernel acknowledges the {receiver}'s FIN; the FINs crossed, so the {receiver} "
                                       + "goes from CLOSING to TIME_WAIT", brief: "ack")),
        // {kind}: the analysis's name (`fast retransmission`); {since}: ` after 212.004 ms` since the first copy.
        ("retransmit", Words(caption: "{kind}{since}", sentence: "{sender} sends {bytes} again{since}: {kind}", brief: "resent")),
        // {n}: the duplicate's number in the row. A duplicate ACK and a probe are their finding:
        // the step and the finding read the same.
        ("dup-ack", Words(caption: "dup ACK #{n}, waits for {ack}", sentence: duplicateAck, brief: "dup ack")),
        ("probe/zero-window", Words(caption: "zero-window probe: room yet?", sentence: zeroWindowProbe, brief: "probe")),
        ("probe/keep-alive", Words(caption: "keep-alive: still there?", sentence: keepAlive, brief: "probe")),
        // {call}: `close() or shutdown(SHUT_WR)` unless the recorded calls say which.
        ("fin-active", Words(caption: "{sender} {call}: active close",
                             sentence: "{sender} called {call}: active close, its FIN means no more data ({sender} in FIN_WAIT_1); "
                                 + "the {receiver}'s recv() will return 0", brief: "1st FIN")),
        ("fin-passive", Words(caption: "{sender} recv() = 0, {call}",
                              sentence: "{sender} closes too (its recv() returned 0, then {call}): passive close ({sender} in LAST_ACK)",
                              brief: "2nd FIN")),
        ("fin-passive/fins-crossed", Words(caption: "{sender} {call} too: FINs crossed",
                                           sentence: "{sender} closed at the same moment: the two FINs crossed (simultaneous close, both in CLOSING)",
                                           brief: "2nd FIN")),
        ("teardown-ack", Words(caption: "last ACK: {closer} in TIME_WAIT",
                               sentence: "last ACK: connection closed; the {closer} waits in TIME_WAIT (60 s on Linux), the {other} is CLOSED",
                               brief: "last ACK")),
        ("teardown-ack/both", Words(caption: "last ACK: both in TIME_WAIT",
                                    sentence: "last ACK: connection closed; both sides wait in TIME_WAIT (simultaneous close)", brief: "last ACK")),
        ("teardown-ack/none", Words(caption: "last ACK", sentence: "last ACK: connection closed", brief: "last ACK")),
        ("rst/refused", Words(caption: "RST: refused, nothing listening",
                              sentence: "connection refused: nothing listens on port {port}; connect() fails with ECONNREFUSED", brief: "reset")),
        ("rst/aborted-handshake", Words(caption: "RST: handshake aborted", sentence: "reset: the client aborted the handshake", brief: "reset")),
        // Packets do not say why: a byte is acknowledged whether or not the program read it. The
        // cause is claimed only from evidence (the recorded calls, below; the kernel's reason, its
        // own [kernel] line); otherwise the usual causes are listed. {listener}: only a server has
        // a listener whose queue can hold the connection; {maybe}: the likelier second cause,
        // `unread data` for a client, `listener closed` for a server.
        ("rst/abortive", Words(caption: "RST: aborted (SO_LINGER 0? {maybe}?)",
                               sentence: "reset: the {sender} aborted the connection with RST (possibly close() with SO_LINGER 0, "
                                   + "or with unread data{listener}); the {receiver}'s next recv()/send() fails with ECONNRESET",
                               brief: "reset")),
        ("rst/listener-closed", Words(caption: "RST: listener closed, connection still queued",
                                      sentence: "reset: the {sender} closed its listening socket while this connection was still in the accept "
                                          + "queue (accept() never took it); the {receiver}'s next recv()/send() fails with ECONNRESET",
                                      brief: "reset")),
        ("rst/linger-zero", Words(caption: "RST: close() with SO_LINGER 0",
                                  sentence: "reset: abortive close by the {sender}, close() with SO_LINGER 0; "
                                      + "the {receiver}'s next recv()/send() fails with ECONNRESET", brief: "reset")),
        ("rst/data-after-close", Words(caption: "RST: data after close()",
                                       sentence: "reset: data arrived after the {sender} called close(); its kernel answers RST", brief: "reset")),
        ("rst/late-segment", Words(caption: "RST: segment after the close",
                                   sentence: "reset: a segment arrived after the connection was closed; the {sender}'s kernel has no socket for it",
                                   brief: "reset")),
        ("rst/unknown", Words(caption: "RST", sentence: "reset of a connection not seen before (it began before the capture)", brief: "reset")),
        ("midstream", Words(caption: "mid-stream (opened before the capture)",
                            sentence: "mid-stream: this connection was open before the capture started", brief: "mid-stream")),
        ("midstream/fin", Words(caption: "mid-stream (opened before the capture); {sender} {call}: active close",
                                sentence: "mid-stream: this connection was open before the capture started; the {sender} called "
                                    + "{call}: active close ({sender} in FIN_WAIT_1)", brief: "mid-stream")),
        // The TCP analysis's findings (EVENTS.md's `analysis` names), the most telling first: an
        // arrow's caption names the first its segment has. {dupacks}: the duplicate ACKs that
        // asked for a fast retransmission; {timer}: ` (RTO)` unless it came sooner than Linux's
        // 200 ms minimum; {since}: ` after 212.004 ms` since the first copy, or nothing when it
        // was not captured. The text line and the details panel join the sentences of all a
        // segment's findings with "; ", in this order.
        ("finding/fast-retransmission", Words(caption: "fast retransmission ({dupacks} dup ACKs)",
                                              sentence: "fast retransmission of {bytes} after {dupacks} duplicate ACKs "
                                                  + "(RFC 5681: the {sender} does not wait for its timer)", brief: "resent")),
        ("finding/spurious-retransmission", Words(caption: "spurious retransmission{since}",
                                                  sentence: "spurious retransmission of {bytes}{since}: the {receiver} had already "
                                                      + "acknowledged them (an ACK was lost or late)", brief: "resent")),
        // By the timer (RTO); /backoff: the same segment timed out again, {backoff} (2, 3...) in a
        // row; /sack-recovery: sooner than the timer can fire; /empty: no payload (a SYN or FIN
        // again), {since} then counts from the newest segment before it if the first copy was not seen.
        ("finding/retransmission", Words(caption: "retransmission{since}{timer}",
                                         sentence: "retransmission of {bytes}{since} (RTO: no ACK came in time)", brief: "resent")),
        ("finding/retransmission/backoff", sentenceVariant("retransmission of {bytes}{since} (RTO: no ACK came in time, "
                                                               + "timeout #{backoff}: each wait doubles)")),
        ("finding/retransmission/sack-recovery", sentenceVariant("retransmission of {bytes}{since} (too soon for the retransmission "
                                                                     + "timer, 200 ms at least on Linux: SACK loss recovery sent it again)")),
        ("finding/retransmission/empty", sentenceVariant("retransmission{since}: no ACK came in time")),
        ("finding/out-of-order", Words(caption: "out of order",
                                       sentence: "out of order: {bytes} arrive after higher ones, within one round trip "
                                           + "(reordered on the way, or resent at once)", brief: "data")),
        // /sack: with SACK blocks, {sack}: `2897–4344, 5793–7240` (the `sack` entry's, below).
        ("finding/duplicate-ack", Words(caption: "dup ACK #{n}, waits for {ack}", sentence: duplicateAck, brief: "dup ack")),
        ("finding/duplicate-ack/sack", sentenceVariant(duplicateAck + "; SACK says it holds {sack}")),
        ("finding/zero-window-probe", Words(caption: "zero-window probe: room yet?", sentence: zeroWindowProbe, brief: "probe")),
        ("finding/zero-window-probe-ack", Words(caption: "probe answered: window 0", sentence: "answer to the probe: still no room",
                                                brief: "ack")),
        ("finding/zero-window", Words(caption: "zero window: buffer full",
                                      sentence: "zero window: the {sender}'s receive buffer is full (its program is not calling recv()); "
                                          + "the {receiver} must stop sending", brief: "ack")),
        ("finding/keep-alive", Words(caption: "keep-alive", sentence: keepAlive, brief: "probe")),
        ("finding/keep-alive-ack", Words(caption: "keep-alive answered", sentence: "answer to the keep-alive: still here", brief: "ack")),
        ("finding/window-full", Words(caption: "window full",
                                      sentence: "window full: these bytes fill the {receiver}'s advertised window; "
                                          + "the {sender} must wait for an ACK", brief: "data")),
        // {window}: the new window in bytes; /unscaled: the handshake was not seen, so its scale is unknown.
        ("finding/window-update", Words(caption: "window update",
                                        sentence: "window update: the {sender}'s program read data, there is room for {window} bytes again",
                                        brief: "ack")),
        ("finding/window-update/unscaled", sentenceVariant("window update: the {sender}'s program read data, there is room again")),
        // {missing}: `1449–2896`, the bytes between the highest seen and this segment.
        ("finding/previous-segment-not-captured", Words(caption: "previous segment not captured",
                                                        sentence: "previous segment not captured: bytes {missing} were not seen "
                                                            + "(lost before the capture point, or not captured)", brief: "data")),
        ("finding/ack-of-unseen-segment", Words(caption: "ACK of unseen bytes", sentence: "acknowledges bytes the capture did not see",
                                                brief: "ack")),
        // Not findings: an ACK's SACK blocks (RFC 2018), {sack} as above; /dsack: a first block
        // reporting bytes received twice (RFC 2883), {range} `1449–2896`, written into {sack}.
        ("sack", sentenceVariant("SACK: the {sender} holds {sack} beyond byte {ack}")),
        ("sack/dsack", sentenceVariant("(DSACK: {range} arrived twice)")),
        // With --kernel: whether tcp:tcp_retransmit_skb saw the sender's kernel send it again (EVENTS.md `kernel_retransmit`).
        ("kernel/retransmit", sentenceVariant("the kernel says: retransmitted (tcp:tcp_retransmit_skb)")),
        ("kernel/no-retransmit", sentenceVariant("the kernel did not report it as its retransmission")),
        // A data segment or an ACK with a finding: the step in a few words, then the finding.
        ("data/finding", Words(caption: "{sender} send(); {finding}", sentence: "{sender} sends {bytes}; {finding}", brief: "data")),
        ("ack/finding", Words(caption: "{sender} kernel ACKs; {finding}", sentence: "{sender}'s kernel acknowledges every byte before {ack}; {finding}", brief: "ack")),
    ]

    /// The sentences a step and its finding share (a duplicate ACK, the two probes).
    static let duplicateAck = "duplicate ACK #{n}: the {sender} still waits for byte {ack}"
    static let zeroWindowProbe = "zero-window probe: is there room yet? (the persist timer)"
    static let keepAlive = "keep-alive: are you still there? (SO_KEEPALIVE: an old byte, so the {receiver} must answer)"

    /// An entry that is only a sentence (a finding's variant, `sack`, `kernel/...`): no arrow's
    /// caption and no `--brief` name come from it.
    static func sentenceVariant(_ sentence: String) -> Words {
        Words(caption: "", sentence: sentence, brief: "")
    }

    /// The analysis's names in the order a caption picks the first of: the table's `finding/name`
    /// keys, not their sentence variants (`finding/name/variant`).
    public static let findingOrder: [String] = entries.compactMap { entry in
        guard entry.key.hasPrefix("finding/") else { return nil }
        let name = entry.key.dropFirst("finding/".count)
        return name.contains("/") ? nil : String(name)
    }

    /// The entries by key.
    public static let table: [String: Words] = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.words) })

    /// The words of `key`. A key the table lacks gets its step's (`rst` for `rst/x`), else the
    /// step's first variant (`rst/refused` for `rst`: its brief name is every variant's), else
    /// the step's name: a reader never prints nothing.
    public static func words(_ key: String) -> Words {
        if let words = table[key] { return words }
        let step = String(key.prefix { $0 != "/" })
        if let words = table[step] { return words }
        return entries.first { $0.key.hasPrefix(step + "/") }?.words ?? Words(caption: step, sentence: step, brief: step)
    }

    /// One piece of a template: literal text, or the name of a value to fill in.
    public enum Part: Sendable, Equatable {
        case text(String)
        case slot(String)
    }

    /// A template split at its `{name}`s, once, so a renderer writes it piece by piece.
    public static func parts(_ template: String) -> [Part] {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            if open > rest.startIndex { parts.append(.text(String(rest[..<open]))) }
            parts.append(.slot(String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return parts
    }

    /// `template` with each `{name}` replaced by `values[name]` (a name without a value stays as written).
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        parts(template).map { part in
            switch part {
            case .text(let text): text
            case .slot(let name): values[name] ?? "{\(name)}"
            }
        }.joined()
    }

    /// The table as one JSON object, `{"handshake-syn":{"caption":...,"sentence":...,"brief":...},...}`,
    /// in `entries` order: what the projector page reads (`words.json`).
    public static var json: String {
        let objects = entries.map { entry in
            JSONValue.string(entry.key).json + ":{\"caption\":" + JSONValue.string(entry.words.caption).json
                + ",\"sentence\":" + JSONValue.string(entry.words.sentence).json
                + ",\"brief\":" + JSONValue.string(entry.words.brief).json + "}"
        }
        return "{" + objects.joined(separator: ",\n") + "}\n"
    }
}
