/// The TCP options a handshake negotiates (RFC 9293, 7323, 2018), decoded for display.
public struct TCPOptions: Sendable, Equatable {
    /// Maximum segment size the sender can receive (SYN only).
    public var mss: UInt16?
    /// Window scale shift count (SYN only).
    public var windowScale: UInt8?
    /// SACK permitted (SYN only).
    public var sackPermitted = false
    /// Number of SACK blocks carried (selective acknowledgements).
    public var sackBlocks: Int { sack.count }
    /// The SACK blocks themselves (RFC 2018 §3): byte ranges the receiver holds beyond its
    /// cumulative ACK, raw sequence numbers, left edge included, right edge excluded.
    public var sack = SACKBlocks()
    /// Timestamps: TSval and TSecr, used for RTT measurement and PAWS.
    public var timestamp: (value: UInt32, echo: UInt32)?

    public init() {}

    public static func == (a: TCPOptions, b: TCPOptions) -> Bool {
        a.mss == b.mss && a.windowScale == b.windowScale && a.sackPermitted == b.sackPermitted
            && a.sack == b.sack && a.timestamp?.value == b.timestamp?.value
            && a.timestamp?.echo == b.timestamp?.echo
    }

    /// `mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 7` in tcpdump's spirit.
    public var summary: String {
        var parts: [String] = []
        if let mss { parts.append("mss \(mss)") }
        if sackPermitted { parts.append("sackOK") }
        if let timestamp { parts.append("TS val \(timestamp.value) ecr \(timestamp.echo)") }
        if let windowScale { parts.append("wscale \(windowScale)") }
        if sackBlocks > 0 { parts.append("sack \(sackBlocks)") }
        return parts.joined(separator: ",")
    }

    /// Walks the options area (kind, length, value...). Malformed options end the walk: they are
    /// for display only and the segment is still valid TCP for following the connection.
    @inline(__always)
    init(_ frame: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        var cursor = start
        while cursor < end {
            let kind = frame.u8(cursor)
            if kind == 0 { break }                       // end of option list
            if kind == 1 { cursor += 1; continue }       // no-operation (padding)
            guard cursor + 1 < end else { break }
            let length = Int(frame.u8(cursor + 1))
            guard length >= 2, cursor + length <= end else { break }
            switch (kind, length) {
            case (2, 4): mss = frame.u16(cursor + 2)
            case (3, 3): windowScale = frame.u8(cursor + 2)
            case (4, 2): sackPermitted = true
            case (5, _):
                // Kind 5, length 2 + 8n: n pairs of 32-bit edges (at most 4 fit in 40 bytes).
                var block = cursor + 2
                while block + 8 <= cursor + length {
                    sack.append(left: frame.u32(block), right: frame.u32(block + 4))
                    block += 8
                }
            case (8, 10): timestamp = (frame.u32(cursor + 2), frame.u32(cursor + 6))
            default: break
            }
            cursor += length
        }
    }
}

/// Up to four SACK blocks (RFC 2018), stored inline so decoding a segment allocates nothing.
public struct SACKBlocks: Sendable, Equatable {
    /// How many blocks the option carried (0 to 4).
    public private(set) var count = 0
    private var edges: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)

    public init() {}

    /// Adds a block; a fifth and later ones (impossible in 40 bytes of options) are ignored.
    mutating func append(left: UInt32, right: UInt32) {
        switch count {
        case 0: edges.0 = left; edges.1 = right
        case 1: edges.2 = left; edges.3 = right
        case 2: edges.4 = left; edges.5 = right
        case 3: edges.6 = left; edges.7 = right
        default: return
        }
        count += 1
    }

    /// Block `index` (0-based): its left edge (first byte held) and right edge (one past the last).
    public subscript(index: Int) -> (left: UInt32, right: UInt32) {
        switch index {
        case 0: return (edges.0, edges.1)
        case 1: return (edges.2, edges.3)
        case 2: return (edges.4, edges.5)
        default: return (edges.6, edges.7)
        }
    }

    public static func == (a: SACKBlocks, b: SACKBlocks) -> Bool {
        guard a.count == b.count else { return false }
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }

    /// RFC 2883's duplicate SACK: the first block reports bytes received twice. It lies at or
    /// below the cumulative ACK, or inside the second block.
    public func isDuplicate(acknowledgement: UInt32) -> Bool {
        guard count > 0 else { return false }
        let first = self[0]
        if sequenceAtOrAfter(acknowledgement, first.right) { return true }
        if count > 1 {
            let second = self[1]
            return sequenceAtOrAfter(first.left, second.left) && sequenceAtOrAfter(second.right, first.right)
        }
        return false
    }
}
