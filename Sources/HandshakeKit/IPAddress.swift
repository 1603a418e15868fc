@preconcurrency import Glibc
import SocketCore

/// An IPv4 or IPv6 address as it sits in the IP header: 4 or 16 bytes, big-endian.
///
/// Kept as two integers rather than an array so that decoding a packet allocates nothing and the
/// connection table can hash addresses cheaply. An IPv4 address lives in the low 32 bits.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(ipv4: UInt32) {
        high = 0
        low = UInt64(ipv4)
        isIPv6 = false
    }

    public init(ipv6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        isIPv6 = true
    }

    /// Parses a numeric literal (`127.0.0.1`, `::1`) with inet_pton(3), through SocketCore's `IPText`.
    public init?(_ text: String) {
        guard let bytes = IPText.parse(text) else { return nil }
        if bytes.count == 4 {
            self.init(ipv4: bytes.withUnsafeBytes { $0.u32(0) })
        } else {
            let (high, low) = bytes.withUnsafeBytes { ($0.u64(0), $0.u64(8)) }
            self.init(ipv6High: high, low: low)
        }
    }

    /// The address as inet_ntop(3) writes it (`127.0.0.1`, `::1`, RFC 5952 for IPv6), which is
    /// also how tcpdump and Wireshark print it.
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let length = write(into: &text)
        return String(decoding: text[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes the text form into `text` (at least INET6_ADDRSTRLEN bytes) and returns its length.
    @inline(__always)
    func write(into text: UnsafeMutablePointer<CChar>) -> Int {
        if isIPv6 {
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { bytes in
                for i in 0..<8 {
                    bytes[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
                    bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
                }
            }
            return withUnsafeBytes(of: &raw) { IPText.writeIPv6($0.baseAddress!, into: text) }
        }
        // Dotted quad by hand: the JSON renderer prints millions of these.
        var length = 0
        for index in 0..<4 {
            let byte = Int((low >> UInt64(24 - 8 * index)) & 0xFF)
            if byte >= 100 { text[length] = CChar(48 + byte / 100); length += 1 }
            if byte >= 10 { text[length] = CChar(48 + byte / 10 % 10); length += 1 }
            text[length] = CChar(48 + byte % 10); length += 1
            if index < 3 { text[length] = 46; length += 1 }   // "."
        }
        text[length] = 0
        return length
    }

    func write(into text: inout [CChar]) -> Int {
        text.withUnsafeMutableBufferPointer { write(into: $0.baseAddress!) }
    }
}
