/// The TCP options a handshake negotiates (RFC 9293, 7323, 2018), decoded for display.
public struct TCPOptions: Sendable, Equatable {
    /// Maximum segment size the sender can receive (SYN only).
    public var mss: UInt16?
    /// Window scale shift count (SYN only).
    public var windowScale: UInt8?
    /// SACK permitted (SYN only).
    public var sackPermitted = false
    /// Number of SACK blocks carried (selective acknowledgements).
    public var sackBlocks = 0
    /// Timestamps: TSval and TSecr, used for RTT measurement and PAWS.
    public var timestamp: (value: UInt32, echo: UInt32)?

    public init() {}

    public static func == (a: TCPOptions, b: TCPOptions) -> Bool {
        a.mss == b.mss && a.windowScale == b.windowScale && a.sackPermitted == b.sackPermitted
            && a.sackBlocks == b.sackBlocks && a.timestamp?.value == b.timestamp?.value
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
            case (5, _): sackBlocks = (length - 2) / 8
            case (8, 10): timestamp = (frame.u32(cursor + 2), frame.u32(cursor + 6))
            default: break
            }
            cursor += length
        }
    }
}
