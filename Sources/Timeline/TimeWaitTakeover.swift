/// The end of an active close as one step, FIN_WAIT2 → TIME_WAIT, as the lessons draw it.
///
/// Linux reports that step as two events. When the peer's FIN arrives in FIN_WAIT2 (or the ACK of
/// our FIN in CLOSING), `tcp_time_wait()` hands the 4-tuple to a small timewait socket and closes
/// the full socket: the tracepoint `sock:inet_sock_set_state` sees the full socket go
/// `FIN_WAIT2 → CLOSE`. The timewait socket is not a full socket and has no tracepoint; sock_diag
/// finds it later in TIME_WAIT. The JSON keeps both events as they came; the text lines, the ladder
/// and the page's pills show the first as `FIN_WAIT2 → TIME_WAIT` and leave out the second.
///
/// A socket that sent or received a RST closes without a timewait socket: its `→ CLOSE` stays.
public struct TimeWaitTakeover: Sendable {
    /// How one state event is shown.
    public enum Shown: Sendable, Equatable {
        /// As the kernel reported it.
        case asReported
        /// The takeover: `from → TIME_WAIT` in place of `from → CLOSE`.
        case takeover
        /// sock_diag's TIME_WAIT of a takeover already shown: the same step again.
        case hidden
    }

    /// Said once per run, under the first takeover shown.
    public static let explanation = "   the kernel reports this step as two events: the full socket's FIN_WAIT2 → CLOSE "
        + "(a timewait socket takes over its 4-tuple), then that socket's TIME_WAIT (sock_diag); --format json keeps both"

    /// The most sockets remembered in each set. Past it the set is emptied: at worst a
    /// TIME_WAIT is shown twice, or a reset socket's CLOSE is read as a takeover.
    static let limit = 4096

    /// `local>remote` of the takeovers shown whose sock_diag TIME_WAIT has not come yet.
    private var handedOver = Set<String>()
    /// `local>remote` of the sockets that sent or received a RST.
    private var reset = Set<String>()
    /// Whether `explanation` has been said.
    private var explained = false

    public init() {}

    /// How to show an event of EVENTS.md's `type` about the socket `local` (talking to `remote`),
    /// for a `state` event with its `from`, `to` and `source`. Call it for every kernel event, in
    /// order: resets matter too.
    public mutating func show(type: String, local: String, remote: String,
                              from: String? = nil, to: String? = nil, source: String? = nil) -> Shown {
        let key = local + ">" + remote
        if type == "reset-sent" || type == "reset-received" {
            Self.insert(key, into: &reset)
            return .asReported
        }
        guard type == "state", let from, let to else { return .asReported }
        if to == "CLOSE", source == "tracepoint", from == "FIN_WAIT2" || from == "CLOSING" {
            if reset.remove(key) != nil { return .asReported }
            Self.insert(key, into: &handedOver)
            return .takeover
        }
        if to == "TIME_WAIT", source == "sock_diag", handedOver.remove(key) != nil { return .hidden }
        return .asReported
    }

    /// True the first time it is asked after a takeover was shown: say `explanation` then.
    public mutating func explainOnce(_ shown: Shown) -> Bool {
        guard shown == .takeover, !explained else { return false }
        explained = true
        return true
    }

    private static func insert(_ key: String, into set: inout Set<String>) {
        if set.count >= limit { set.removeAll() }
        set.insert(key)
    }
}
