/// The TCP flags byte (plus the two ECN bits): which control signals a segment carries.
public struct TCPFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// "No more data from sender": close() or shutdown(SHUT_WR) was called.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// "Synchronize sequence numbers": the first segment each side sends.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// "Reset": abort the connection.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// "Push": hand the data to the application now.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// The acknowledgement number is valid (every segment after the first SYN).
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    /// ECN-Echo and Congestion Window Reduced (RFC 3168).
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// The names in bit order, as the JSON output lists them.
    public static let names: [(TCPFlags, StaticString)] = [
        (.fin, "FIN"), (.syn, "SYN"), (.rst, "RST"), (.psh, "PSH"),
        (.ack, "ACK"), (.urg, "URG"), (.ece, "ECE"), (.cwr, "CWR"),
    ]

    /// `SYN,ACK`, or `none`.
    public var description: String {
        let names = Self.names.filter { contains($0.0) }.map { "\($0.1)" }
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// tcpdump's letters: `S` SYN, `F` FIN, `P` PSH, `R` RST, `U` URG, `E` ECE, `W` CWR, `.` ACK
    /// (`FP.`), or `none`.
    public var letters: String {
        var text = ""
        for (flag, letter) in [(TCPFlags.syn, "S"), (.fin, "F"), (.psh, "P"), (.rst, "R"), (.urg, "U"), (.ece, "E"), (.cwr, "W"), (.ack, ".")]
        where contains(flag) { text += letter }
        return text.isEmpty ? "none" : text
    }
}
