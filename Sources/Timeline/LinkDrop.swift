import SocketCore

/// `link-drop`: a packet lab-link lost on purpose (EVENTS.md). One constructor and one text form,
/// so lab-link's own lines, handshake-watch's replay, the lesson timeline and the ladder's label
/// all say it the same way:
///
///     {"type":"link-drop","time":1795642942.605030,"dir":"s→c","reason":"rule","src":"10.77.0.2",
///      "sport":5000,"dst":"10.77.0.1","dport":40412,"flags":["SYN","ACK"],"seq":1160983878,"len":0}
///     [link] ✗ s→c lost (rule) 10.77.0.2:5000 → 10.77.0.1:40412 [SYN,ACK] seq 1160983878 len 0
extension TimelineEvent {
    /// Why the link dropped a packet: a `--drop` rule, the random `--loss`, or a full `--queue`.
    public enum LinkDropReason: String, Sendable, CaseIterable {
        case rule, loss, queue
    }

    /// A dropped packet. `sport`/`dport` are nil for a protocol without ports, `seq` for one
    /// without sequence numbers (anything but TCP); `flags` are TCP's, by name; `len` is the
    /// payload's length (TCP or UDP), or the IP payload's for other protocols.
    public static func linkDrop(time: EpochTime, dir: String, reason: LinkDropReason, src: String, sport: Int?,
                                dst: String, dport: Int?, flags: [String], seq: UInt32?, len: Int) -> TimelineEvent {
        TimelineEvent(type: "link-drop", time: time, fields: [
            ("dir", .string(dir)), ("reason", .string(reason.rawValue)),
            ("src", .string(src)), ("sport", sport.map { .integer($0) } ?? .null),
            ("dst", .string(dst)), ("dport", dport.map { .integer($0) } ?? .null),
            ("flags", .array(flags.map { .string($0) })), ("seq", seq.map { .integer($0) } ?? .null),
            ("len", .integer(len)),
        ])
    }

    /// The line after the time and the `[link]` label, for a `link-drop` event (nil for any
    /// other type): `✗ s→c lost (rule) 10.77.0.2:5000 → 10.77.0.1:40412 [SYN,ACK] seq 1160983878 len 0`.
    /// Text from the event is escaped (a recording is input from outside).
    public var linkDropText: String? { linkDropText(brief: false) }

    /// `--brief`'s line: the direction says which way, so the addresses are left out:
    /// `✗ s→c lost (rule) [SYN,ACK] seq 1160983878 len 0`.
    public var linkDropBriefText: String? { linkDropText(brief: true) }

    private func linkDropText(brief: Bool) -> String? {
        guard type == "link-drop" else { return nil }
        func clean(_ text: String?) -> String { Console.printable(Array((text ?? "?").utf8)) }
        func endpoint(_ address: String?, _ port: Int?) -> String {
            let host = clean(address)
            guard let port else { return host }
            return (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        }
        let direction = string("dir").flatMap { ["c→s", "s→c"].contains($0) ? $0 : nil } ?? clean(string("dir"))
        let flags = (self["flags"]?.arrayValue ?? []).map { clean($0.stringValue) }
        var text = "✗ " + direction + " lost (" + clean(string("reason")) + ")"
        if !brief { text += " " + endpoint(string("src"), int("sport")) + " → " + endpoint(string("dst"), int("dport")) }
        if !flags.isEmpty { text += " [" + flags.joined(separator: ",") + "]" }
        if let seq = int("seq") { text += " seq \(seq)" }
        return text + " len \(int("len") ?? 0)"
    }
}
