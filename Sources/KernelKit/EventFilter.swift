import CPcap
import SocketCore

/// The capture's BPF filter, run over kernel events.
///
/// A filter is written for packets; a kernel event is about a socket. The rule: **an event
/// passes when a packet of its connection, in either direction, would pass.** The connection's
/// packets are stood in for by synthetic raw IPv4/IPv6 + TCP headers between the event's two
/// ends, both ways, with each set of flags a TCP connection sends (SYN, SYN-ACK, ACK, PSH-ACK,
/// FIN-ACK, RST, RST-ACK), run through the compiled program with pcap_offline_filter(3). So
/// `port 5000`, `src port 5000` and `dst port 5000` all show both ends' states, `host ::1` the
/// connections to and from ::1, and `tcp[13] & 2 != 0` (SYNs) every event of every connection,
/// since each one opened with a SYN. The headers carry no payload and no options: a filter on
/// the payload or the length (`greater 100`) sees a bare header.
///
/// The verdict belongs to the 4-tuple, so it is kept per 4-tuple (at most `cacheLimit`, then
/// forgotten all at once), and each connection's events cost the filter once.
public final class EventFilter {
    /// The flags of the packets that stand for a connection (byte 13 of the TCP header).
    static let connectionFlags: [UInt8] = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14]
    static let cacheLimit = 65_536

    private var program = bpf_program()
    private let dead: OpaquePointer
    private struct Pair: Hashable { var a: String, aPort: Int, b: String, bPort: Int }
    private var verdicts: [Pair: Bool] = [:]

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

    /// True when the event passes: it has no addresses (a counter), or a packet of its
    /// connection would.
    public func matches(_ event: KernelEvent) -> Bool {
        guard event.hasAddresses else { return true }
        return matches(local: event.local, lport: event.localPort, remote: event.remote, rport: event.remotePort)
    }

    /// True when some packet between `local:lport` and `remote:rport`, either way, would pass.
    public func matches(local: String, lport: Int, remote: String, rport: Int) -> Bool {
        let pair = (local, lport) < (remote, rport) ? Pair(a: local, aPort: lport, b: remote, bPort: rport)
                                                    : Pair(a: remote, aPort: rport, b: local, bPort: lport)
        if let verdict = verdicts[pair] { return verdict }
        let verdict = evaluate(local: local, lport: lport, remote: remote, rport: rport)
        if verdicts.count >= Self.cacheLimit { verdicts.removeAll(keepingCapacity: true) }
        verdicts[pair] = verdict
        return verdict
    }

    private func evaluate(local: String, lport: Int, remote: String, rport: Int) -> Bool {
        guard let a = IPText.parse(local, unmappingIPv4: true), let b = IPText.parse(remote, unmappingIPv4: true),
              a.count == b.count else { return false }
        for (source, sport, destination, dport) in [(a, lport, b, rport), (b, rport, a, lport)] {
            var packet = Self.packet(source, sport, destination, dport)
            let flagsAt = packet.count - 7   // TCP byte 13, in a 20-byte TCP header at the end
            for flags in Self.connectionFlags {
                packet[flagsAt] = flags
                if passes(packet) { return true }
            }
        }
        return false
    }

    private func passes(_ packet: [UInt8]) -> Bool {
        var header = pcap_pkthdr()
        header.caplen = bpf_u_int32(packet.count)
        header.len = bpf_u_int32(packet.count)
        return packet.withUnsafeBufferPointer { pcap_offline_filter(&program, &header, $0.baseAddress) != 0 }
    }

    /// An IPv4 (20 bytes) or IPv6 (40 bytes) header, then a 20-byte TCP header (flags set by the caller).
    static func packet(_ source: [UInt8], _ sport: Int, _ destination: [UInt8], _ dport: Int) -> [UInt8] {
        var packet = source.count == 4 ? [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0] + source + destination
                                       : [0x60, 0, 0, 0, 0, 20, 6, 64] + source + destination
        packet += [UInt8(sport >> 8 & 0xff), UInt8(sport & 0xff), UInt8(dport >> 8 & 0xff), UInt8(dport & 0xff)]
        packet += [0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]   // seq, ack, offset 5, flags, window, sum, urg
        return packet
    }
}
