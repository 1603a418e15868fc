@preconcurrency import Glibc

/// Addresses between their bytes and their text, with inet_pton(3) and inet_ntop(3): `127.0.0.1`,
/// `::1` (RFC 5952 for IPv6, which is also how tcpdump and Wireshark print them). The one place
/// the project converts: sockets (`SocketAddress`), packets (HandshakeKit's `IPAddress`) and
/// tracepoints (KernelKit) all come here.
public enum IPText {
    /// 4 bytes (IPv4) or 16 (IPv6) as text.
    public static func format(_ bytes: some Collection<UInt8>) -> String {
        let raw = Array(bytes)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = raw.count == 4 ? AF_INET : AF_INET6
        _ = raw.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 4 or 16 bytes, or nil for text that is no numeric address. With `unmappingIPv4`, an
    /// IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) gives its 4 IPv4 bytes, since that is the
    /// packet on the wire.
    public static func parse(_ text: String, unmappingIPv4: Bool = false) -> [UInt8]? {
        var four = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &four) == 1 { return four }
        var sixteen = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &sixteen) == 1 else { return nil }
        if unmappingIPv4 && sixteen[0..<10].allSatisfy({ $0 == 0 }) && sixteen[10] == 0xff && sixteen[11] == 0xff {
            return Array(sixteen[12...])
        }
        return sixteen
    }

    /// Writes the text of a 16-byte IPv6 address into `text` (at least INET6_ADDRSTRLEN bytes,
    /// NUL-terminated) and returns its length: for renderers that print millions of addresses
    /// without making a String each.
    public static func writeIPv6(_ bytes: UnsafeRawPointer, into text: UnsafeMutablePointer<CChar>) -> Int {
        _ = inet_ntop(AF_INET6, bytes, text, socklen_t(INET6_ADDRSTRLEN))
        return strlen(text)
    }
}
