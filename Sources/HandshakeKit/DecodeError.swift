/// Why a captured packet could not be decoded. The capture is never trusted: each header's length
/// is checked against the bytes captured before a field is read, and a failure is reported as
/// `skipped packet 17: truncated TCP header` instead of reading past the end.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncatedLinkHeader(String)
    case truncatedIPv4Header
    case badIPv4HeaderLength(Int)
    case badIPv4TotalLength(Int)
    case ipv4Fragment
    case truncatedIPv6Header
    case truncatedIPv6ExtensionHeader
    case ipv6Fragment
    case badIPVersion(Int)
    case truncatedTCPHeader
    case badTCPHeaderLength(Int)
    case tcpHeaderBeyondIPPayload

    public var description: String {
        switch self {
        case .truncatedLinkHeader(let name): return "truncated \(name) header"
        case .truncatedIPv4Header: return "truncated IPv4 header"
        case .badIPv4HeaderLength(let length): return "bad IPv4 header length \(length) (minimum 20)"
        case .badIPv4TotalLength(let length): return "bad IPv4 total length \(length) (shorter than its header)"
        case .ipv4Fragment: return "IPv4 fragment (not reassembled)"
        case .truncatedIPv6Header: return "truncated IPv6 header"
        case .truncatedIPv6ExtensionHeader: return "truncated IPv6 extension header"
        case .ipv6Fragment: return "IPv6 fragment (not reassembled)"
        case .badIPVersion(let version): return "bad IP version \(version)"
        case .truncatedTCPHeader: return "truncated TCP header"
        case .badTCPHeaderLength(let length): return "bad TCP header length \(length) (minimum 20)"
        case .tcpHeaderBeyondIPPayload: return "TCP header longer than the IP payload"
        }
    }
}
