/// Zeek's `history`: the connection's life in one word, a letter per kind of segment seen.
///
///     s SYN without ACK   h SYN+ACK      a pure ACK        d data            f FIN      r RST
///     t retransmitted payload            w zero window     i inconsistent (FIN+RST)
///     q multi-flag (SYN+FIN, SYN+RST)    ^ the direction was flipped (the first packet was the responder's)
///
/// Upper case: the originator (the client) sent it; lower case: the responder. `a d i q` appear at
/// most once per direction; `s h f r` again only when the sequence number changed (a new SYN, not a
/// copy); `t w` at the 1st, 10th, 100th... time (logarithmically). Zeek's `c` (bad checksum) and
/// `g` (content gap) are not produced: loopback captures carry offloaded, unfilled checksums, and
/// gaps need reassembly.
struct ZeekHistory {
    private(set) var text = ""
    private var once: Set<Character> = []
    private var lastSequence: [Character: UInt32] = [:]
    private var counts: [Character: Int] = [:]
    /// Per direction, the end of the highest payload sent (for `t`).
    private var highestEnd: [Bool: UInt32] = [:]

    /// The direction was flipped: the capture began with the responder's packet.
    mutating func flipped() { text = "^" + text }

    mutating func record(_ tcp: TCPSegment, fromOriginator: Bool) {
        let flags = tcp.flags
        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst), ack = flags.contains(.ack)
        if syn && (fin || rst) { onePerDirection("q", fromOriginator) }
        if !syn && fin && rst { onePerDirection("i", fromOriginator) }
        if syn { perSequence(ack ? "h" : "s", fromOriginator, tcp.sequence) }
        if tcp.payloadLength > 0 {
            onePerDirection("d", fromOriginator)
            let end = tcp.sequence &+ UInt32(truncatingIfNeeded: tcp.payloadLength)
            if let highest = highestEnd[fromOriginator], sequenceAtOrAfter(highest, end) {
                logarithmic("t", fromOriginator)
            } else {
                highestEnd[fromOriginator] = end
            }
        }
        if tcp.window == 0 && !rst { logarithmic("w", fromOriginator) }
        if fin { perSequence("f", fromOriginator, tcp.sequence) }
        if rst { perSequence("r", fromOriginator, tcp.sequence) }
        if ack && !syn && !fin && !rst && tcp.payloadLength == 0 { onePerDirection("a", fromOriginator) }
    }

    private mutating func append(_ letter: Character, _ fromOriginator: Bool) {
        text.append(fromOriginator ? Character(letter.uppercased()) : letter)
    }

    private mutating func onePerDirection(_ letter: Character, _ fromOriginator: Bool) {
        let key = fromOriginator ? Character(letter.uppercased()) : letter
        if once.insert(key).inserted { append(letter, fromOriginator) }
    }

    private mutating func perSequence(_ letter: Character, _ fromOriginator: Bool, _ sequence: UInt32) {
        let key = fromOriginator ? Character(letter.uppercased()) : letter
        if lastSequence[key] != sequence {
            lastSequence[key] = sequence
            append(letter, fromOriginator)
        }
    }

    private mutating func logarithmic(_ letter: Character, _ fromOriginator: Bool) {
        let key = fromOriginator ? Character(letter.uppercased()) : letter
        let count = (counts[key] ?? 0) + 1
        counts[key] = count
        if [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000].contains(count) { append(letter, fromOriginator) }
    }
}
