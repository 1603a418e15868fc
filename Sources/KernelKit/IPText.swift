@preconcurrency import Glibc

/// Addresses between their bytes and their text (inet_ntop(3)/inet_pton(3)), as the tracepoints
/// print them: `127.0.0.1`, `::1`. An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) reads as IPv4,
/// since that is the packet on the wire.
enum IPText {
    static func format(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 4 or 16 bytes, or nil for text that is no address.
    static func parse(_ text: String) -> [UInt8]? {
        var four = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, text, &four) == 1 { return four }
        var sixteen = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, text, &sixteen) == 1 else { return nil }
        if sixteen[0..<10].allSatisfy({ $0 == 0 }) && sixteen[10] == 0xff && sixteen[11] == 0xff {
            return Array(sixteen[12...])
        }
        return sixteen
    }
}
