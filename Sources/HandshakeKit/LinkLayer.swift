/// The link-layer header in front of the IP packet, named by the capture's link type (DLT).
///
/// libpcap tells us the link type once per capture (`pcap_datalink`); every frame then starts with
/// that header. We only need to know where the IP header starts and which IP version it is.
public enum LinkLayer: Sendable, Equatable {
    /// DLT_EN10MB (1): Ethernet II, 14 bytes, possibly 802.1Q/802.1ad VLAN tags (4 bytes each).
    case ethernet
    /// DLT_LINUX_SLL (113): Linux "cooked" header of `-i any` through the API, 16 bytes.
    case linuxSLL
    /// DLT_LINUX_SLL2 (276): the newer cooked header `tcpdump -i any` writes, 20 bytes.
    case linuxSLL2
    /// DLT_NULL (0): BSD loopback, a 4-byte address family in the *capturing host's* byte order.
    case null
    /// DLT_LOOP (108): like NULL but the family is always big-endian (OpenBSD).
    case loop
    /// DLT_RAW (12 on Linux, 14 on OpenBSD, LINKTYPE_RAW 101 in files), LINKTYPE_IPV4 (228),
    /// LINKTYPE_IPV6 (229): no link header at all, the frame is the IP packet.
    case rawIP

    /// The link layer of a libpcap DLT value, or nil if we do not decode it.
    public init?(dlt: Int32) {
        switch dlt {
        case 1: self = .ethernet
        case 113: self = .linuxSLL
        case 276: self = .linuxSLL2
        case 0: self = .null
        case 108: self = .loop
        case 12, 14, 101, 228, 229: self = .rawIP
        default: return nil
        }
    }

    /// Where the network layer starts in `frame`, and whether it is IPv4 (4), IPv6 (6) or
    /// something else (nil: not IP, ignored).
    @inline(__always)
    public func networkLayer(of frame: UnsafeRawBufferPointer) throws(DecodeError) -> (offset: Int, version: Int)? {
        switch self {
        case .ethernet:
            guard frame.count >= 14 else { throw .truncatedLinkHeader("Ethernet") }
            var offset = 12
            var etherType = frame.u16(offset)
            // 802.1Q (0x8100), 802.1ad QinQ (0x88A8) and the old 0x9100: a 4-byte tag, then the
            // real EtherType. Live Linux captures deliver tags this way too (libpcap re-inserts them).
            while etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 {
                offset += 4
                guard frame.count >= offset + 2 else { throw .truncatedLinkHeader("802.1Q VLAN") }
                etherType = frame.u16(offset)
            }
            return Self.ipVersion(etherType: etherType).map { (offset + 2, $0) }
        case .linuxSLL:
            guard frame.count >= 16 else { throw .truncatedLinkHeader("Linux cooked (SLL)") }
            return Self.ipVersion(etherType: frame.u16(14)).map { (16, $0) }
        case .linuxSLL2:
            guard frame.count >= 20 else { throw .truncatedLinkHeader("Linux cooked v2 (SLL2)") }
            return Self.ipVersion(etherType: frame.u16(0)).map { (20, $0) }
        case .null, .loop:
            // The family number for IPv6 differs by OS (10, 24, 28, 30) and NULL's byte order by
            // host, so read the version nibble of the IP header itself.
            guard frame.count >= 5 else { throw .truncatedLinkHeader(self == .null ? "BSD loopback (NULL)" : "OpenBSD loopback (LOOP)") }
            return Self.ipVersion(nibble: frame.u8(4) >> 4).map { (4, $0) }
        case .rawIP:
            guard frame.count >= 1 else { throw .truncatedLinkHeader("raw IP") }
            return Self.ipVersion(nibble: frame.u8(0) >> 4).map { (0, $0) }
        }
    }

    @inline(__always)
    private static func ipVersion(etherType: UInt16) -> Int? {
        switch etherType {
        case 0x0800: return 4
        case 0x86DD: return 6
        default: return nil
        }
    }

    @inline(__always)
    private static func ipVersion(nibble: UInt8) -> Int? {
        switch nibble {
        case 4: return 4
        case 6: return 6
        default: return nil
        }
    }
}
