import CPcap
import SocketCore

/// The capture's BPF filter, run over kernel events: an event shows only if a packet between its
/// two sockets would pass the filter. pcap_offline_filter(3) runs the compiled program over a
/// synthetic raw IPv4/IPv6 + TCP header built from the event's addresses and ports (local to
/// remote), so `port 5000`, `host ::1`, `tcp[13] ...` all mean for events what they mean for packets.
public final class EventFilter {
    private var program = bpf_program()
    private let dead: OpaquePointer

    /// Compiles `tcp and (expression)` for raw IP. Nil when the expression does not compile.
    public init?(expression: String) {
        guard let dead = pcap_open_dead(DLT_RAW, 128) else { return nil }
        self.dead = dead
        // On failure deinit still runs (every property is set): it closes `dead`.
        guard pcap_compile(dead, &program, "tcp and (\(expression))", 1, PCAP_NETMASK_UNKNOWN) == 0 else { return nil }
    }

    deinit {
        pcap_freecode(&program)
        pcap_close(dead)
    }

    /// True when a segment from `local:lport` to `remote:rport` would pass the filter.
    public func matches(local: String, lport: Int, remote: String, rport: Int) -> Bool {
        guard let source = IPText.parse(local, unmappingIPv4: true), let destination = IPText.parse(remote, unmappingIPv4: true),
              source.count == destination.count else { return false }
        var packet = Self.header(source, destination)
        packet += [UInt8(lport >> 8 & 0xff), UInt8(lport & 0xff), UInt8(rport >> 8 & 0xff), UInt8(rport & 0xff)]
        packet += [0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]   // seq, ack, offset 5, ACK
        var header = pcap_pkthdr()
        header.caplen = bpf_u_int32(packet.count)
        header.len = bpf_u_int32(packet.count)
        return packet.withUnsafeBufferPointer { pcap_offline_filter(&program, &header, $0.baseAddress) != 0 }
    }

    /// An IPv4 (20 bytes) or IPv6 (40 bytes) header carrying 20 bytes of TCP.
    private static func header(_ source: [UInt8], _ destination: [UInt8]) -> [UInt8] {
        if source.count == 4 {
            return [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0] + source + destination
        }
        return [0x60, 0, 0, 0, 0, 20, 6, 64] + source + destination
    }
}
