/// Synthetic IP packets for the tests: IPv4 or IPv6 with a TCP or UDP header and a payload.
enum Packets {
    static func tcp4(from source: [UInt8] = [10, 77, 0, 2], sport: Int = 5000, to destination: [UInt8] = [10, 77, 0, 1],
                     dport: Int = 40000, flags: UInt8, seq: UInt32 = 1000, payload: Int = 0) -> [UInt8] {
        let total = 20 + 20 + payload
        var packet: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0x40, 0, 64, 6, 0, 0]
        packet += source + destination
        packet += tcpHeader(sport: sport, dport: dport, flags: flags, seq: seq)
        return packet + [UInt8](repeating: 0x61, count: payload)
    }

    static func tcp6(sport: Int = 40000, dport: Int = 5000, flags: UInt8, seq: UInt32 = 7, payload: Int = 0) -> [UInt8] {
        let length = 20 + payload
        var packet: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 6, 64]
        packet += [0xfd, 0x77] + [UInt8](repeating: 0, count: 13) + [1]
        packet += [0xfd, 0x77] + [UInt8](repeating: 0, count: 13) + [2]
        packet += tcpHeader(sport: sport, dport: dport, flags: flags, seq: seq)
        return packet + [UInt8](repeating: 0x62, count: payload)
    }

    static func udp4(sport: Int = 9000, dport: Int = 9001, payload: Int) -> [UInt8] {
        let total = 20 + 8 + payload
        var packet: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0]
        packet += [10, 77, 0, 1, 10, 77, 0, 2]
        packet += [UInt8(sport >> 8), UInt8(sport & 0xff), UInt8(dport >> 8), UInt8(dport & 0xff),
                   UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xff), 0, 0]
        return packet + [UInt8](repeating: 0x63, count: payload)
    }

    private static func tcpHeader(sport: Int, dport: Int, flags: UInt8, seq: UInt32) -> [UInt8] {
        [UInt8(sport >> 8), UInt8(sport & 0xff), UInt8(dport >> 8), UInt8(dport & 0xff),
         UInt8(seq >> 24), UInt8(seq >> 16 & 0xff), UInt8(seq >> 8 & 0xff), UInt8(seq & 0xff),
         0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
    }
}
