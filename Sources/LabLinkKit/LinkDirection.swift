/// One direction of the link (client to server, or back): its impairments, applied to each packet
/// in the order of the issue and of `lab-link --help`:
///
/// 1. the `--drop` rules (shared by both directions, see `DropRules`; applied by the caller);
/// 2. random loss, from this direction's own seeded generator;
/// 3. the bottleneck: `--rate` and its drop-tail `--queue`;
/// 4. the delay, `--delay` ± `--jitter`, never reordering unless `--reorder`;
/// 5. `--duplicate`.
///
/// `admit` is pure arithmetic on a packet's size and arrival time (CLOCK_MONOTONIC nanoseconds),
/// so tests can run it on synthetic packets.
public struct LinkDirection: Sendable {
    /// `c→s`: from the client's namespace to the server's; `s→c`: back.
    public enum Name: String, Sendable, CaseIterable {
        case toServer = "c→s"
        case toClient = "s→c"
    }

    /// What happens to a packet.
    public enum Verdict: Sendable, Equatable {
        /// Lost at step 2 or 3.
        case lost(LinkDropReasonCode)
        /// Written to the other side at `deadline`; a second copy right after when `duplicate`.
        case forward(deadline: UInt64, duplicate: Bool)
    }

    /// The reasons `admit` can give (a `--drop` rule is decided before it).
    public enum LinkDropReasonCode: Sendable, Equatable { case loss, queue }

    public let name: Name
    public let options: LinkOptions
    public private(set) var bottleneck: Bottleneck
    private var lossRandom: SeededRandom
    private var jitterRandom: SeededRandom
    private var reorderRandom: SeededRandom
    private var duplicateRandom: SeededRandom
    /// The latest deadline given: without `--reorder` no packet is due before it.
    private var lastDeadline: UInt64 = 0

    public init(_ name: Name, options: LinkOptions) {
        self.name = name
        self.options = options
        bottleneck = Bottleneck(bitsPerSecond: options.rate, limit: options.queue)
        let base: UInt64 = name == .toServer ? 0 : 8
        lossRandom = SeededRandom(seed: options.seed, stream: base + 1)
        jitterRandom = SeededRandom(seed: options.seed, stream: base + 2)
        reorderRandom = SeededRandom(seed: options.seed, stream: base + 3)
        duplicateRandom = SeededRandom(seed: options.seed, stream: base + 4)
    }

    /// Steps 2 to 5 for a packet of `bytes` read at `now`.
    ///
    /// `housekeeping` is a multicast packet the kernel sends by itself (IPv6 router
    /// solicitations, MLD reports, at times nobody chooses): it is neither lost, jittered,
    /// reordered nor duplicated, and draws no random number, so the Nth packet a program sends
    /// meets the same fate in every run. It still takes its turn at the rate and the delay.
    public mutating func admit(bytes: Int, at now: UInt64, housekeeping: Bool = false) -> Verdict {
        if !housekeeping && lossRandom.chance(percent: options.loss) { return .lost(.loss) }
        guard let departure = bottleneck.admit(bytes: bytes, at: now) else { return .lost(.queue) }
        var deadline = departure
        if options.delay > 0 || options.jitter > 0 {
            let delay = max(0, options.delay + (housekeeping ? 0 : jitterRandom.spread(options.jitter)))
            deadline = departure + UInt64(delay)
        }
        if !housekeeping && reorderRandom.chance(percent: options.reorder) {
            // netem's reorder: this one goes at once, ahead of the delayed packets before it.
            deadline = departure
        } else {
            deadline = max(deadline, lastDeadline)
            lastDeadline = deadline
        }
        return .forward(deadline: deadline, duplicate: !housekeeping && duplicateRandom.chance(percent: options.duplicate))
    }

    /// True for a packet to a multicast address (IPv4 224.0.0.0/4, IPv6 ff00::/8): the first
    /// byte of the destination, at offset 16 (IPv4) or 24 (IPv6).
    @inline(__always)
    public static func isMulticast(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard let first = packet.first else { return false }
        switch first >> 4 {
        case 4: return packet.count >= 20 && packet[16] & 0xF0 == 0xE0
        case 6: return packet.count >= 40 && packet[24] == 0xFF
        default: return false
        }
    }
}
