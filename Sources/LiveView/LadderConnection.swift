import SocketCore
/// One connection as its ladder shows it: its two ends, its arrows with relative numbers and
/// captions, and the kernel's state changes at each end, in the order the events came.
struct LadderConnection {
    /// One arrow: a segment, which way it goes, its numbers relative to each side's ISN.
    struct Arrow {
        var segment: LadderEvent.Segment
        var fromClient: Bool
        var sequence: UInt32
        /// Nil when the segment has no ACK flag (or the peer's ISN is still unknown).
        var acknowledgement: UInt32?
        /// The short line under the arrow.
        var caption: String
        /// Why lab-link dropped this very packet after it was captured (a `link-drop` that
        /// matches it): the arrow then stops halfway, in ✗. Nil for a packet that arrived.
        var lostReason: String? = nil

        /// `SYN,ACK seq 0 ack 1`, `PSH,ACK seq 1 ack 1 len 5`: the label on the arrow.
        var label: String {
            var label = "\(segment.flags.isEmpty ? "none" : segment.flags.joined(separator: ",")) seq \(sequence)"
            if let acknowledgement { label += " ack \(acknowledgement)" }
            if segment.length > 0 { label += " len \(segment.length)" }
            if let lostReason { label += " lost (\(lostReason))" }
            return label
        }
    }

    /// A packet the link lost: drawn from its sender to the middle of the ladder, ending in ✗.
    struct LostArrow {
        var packet: LadderEvent.LostPacket
        var fromClient: Bool
        /// `SYN,ACK seq 0 lost (rule)`: relative to the sender's ISN when it is known.
        var label: String
    }

    enum Item {
        case arrow(Arrow)
        case state(LadderEvent.StateChange, ConnectionSide)
        case lost(LostArrow)
    }

    let number: Int
    var client: SocketAddress
    var server: SocketAddress
    var firstTime: Double
    var lastTime: Double
    /// Arrows and states, each with the index of its event in the list drawn.
    var items: [(index: Int, item: Item)] = []
    var summary: LadderEvent.Summary?
    /// What the captions need to know of the connection so far.
    var progress = LadderCaption.Progress()
    private var clientBase: UInt32?
    private var serverBase: UInt32?

    /// A connection begins with its first segment: a SYN comes from the client; met mid-stream,
    /// the end with the lower port is taken as the server (ephemeral ports are high).
    init(first segment: LadderEvent.Segment) {
        let fromClient = segment.flags.contains("SYN")
            ? !segment.flags.contains("ACK") : segment.source.port > segment.destination.port
        number = segment.connection
        client = fromClient ? segment.source : segment.destination
        server = fromClient ? segment.destination : segment.source
        firstTime = segment.time
        lastTime = segment.time
    }

    mutating func add(_ segment: LadderEvent.Segment, index: Int) {
        lastTime = segment.time
        let fromClient = segment.source == client
        learnBases(segment, fromClient: fromClient)
        let ownBase = (fromClient ? clientBase : serverBase) ?? segment.sequence
        let peerBase = fromClient ? serverBase : clientBase
        var arrow = Arrow(segment: segment, fromClient: fromClient, sequence: segment.sequence &- ownBase,
                          acknowledgement: segment.flags.contains("ACK") ? peerBase.map { segment.acknowledgement &- $0 } : nil,
                          caption: "")
        arrow.caption = LadderCaption.caption(for: arrow, progress: &progress)
        items.append((index, .arrow(arrow)))
    }

    /// Each side's relative numbers count from its initial sequence number, as in Wireshark: the
    /// SYN's number, or one less than the first number seen from (or acknowledged to) that side.
    private mutating func learnBases(_ segment: LadderEvent.Segment, fromClient: Bool) {
        let ownBase = segment.flags.contains("SYN") ? segment.sequence : segment.sequence &- 1
        let peerBase: UInt32? = segment.flags.contains("ACK") ? segment.acknowledgement &- 1 : nil
        if fromClient {
            if clientBase == nil { clientBase = ownBase }
            if serverBase == nil { serverBase = peerBase }
        } else {
            if serverBase == nil { serverBase = ownBase }
            if clientBase == nil { clientBase = peerBase }
        }
    }

    mutating func add(_ lost: LadderEvent.LostPacket, index: Int) {
        // Captured on the sender's side, the packet is already an arrow: that arrow never arrived.
        if let position = capturedArrow(of: lost) {
            if case .arrow(var arrow) = items[position].item {
                arrow.lostReason = lost.reason
                arrow.caption = LadderConnection.lostCaption
                items[position].item = .arrow(arrow)
            }
            return
        }
        lastTime = max(lastTime, lost.time)
        let fromClient = lost.source == client
        let base = fromClient ? clientBase : serverBase
        var label = lost.flags.isEmpty ? "" : lost.flags.joined(separator: ",")
        if let sequence = lost.sequence {
            // A SYN's own number is its side's ISN: relative 0, even before that side is known.
            let relative = lost.flags.contains("SYN") ? 0 : base.map { sequence &- $0 } ?? sequence
            label += " seq \(relative)"
        }
        if lost.length > 0 { label += " len \(lost.length)" }
        items.append((index, .lost(LostArrow(packet: lost, fromClient: fromClient,
                                             label: label + " lost (\(lost.reason))"))))
    }

    /// The caption of an arrow the link dropped (the page writes the same).
    static let lostCaption = "the link dropped it: it never arrives"

    /// The arrow of the packet a `link-drop` names, if the capture saw it leave: same direction,
    /// flags, sequence number and length, captured at most 100 ms before the drop, not yet lost.
    private func capturedArrow(of lost: LadderEvent.LostPacket) -> Int? {
        for position in items.indices.reversed() {
            guard case .arrow(let arrow) = items[position].item else { continue }
            let segment = arrow.segment
            if lost.time - segment.time > 0.1 { return nil }
            if segment.source == lost.source, segment.destination == lost.destination, segment.flags == lost.flags,
               segment.sequence == lost.sequence, segment.length == lost.length, arrow.lostReason == nil,
               segment.time <= lost.time {
                return position
            }
        }
        return nil
    }

    mutating func add(_ change: LadderEvent.StateChange, index: Int) {
        items.append((index, .state(change, change.local == client ? .client : .server)))
    }

    /// Whether a kernel event about `local` and `remote` is about this connection.
    func concerns(local: SocketAddress, remote: SocketAddress) -> Bool {
        (local == client && remote == server) || (local == server && remote == client)
    }
}
