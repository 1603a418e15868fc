@preconcurrency import Glibc
import CPcap

/// One `--drop FILTER`: a libpcap filter that loses the first packet it matches, then is used up.
///
/// The filter is compiled once by pcap_compile(3) for raw IP (`DLT_RAW`: the packet starts with
/// its IPv4 or IPv6 header, which is exactly what a TUN device gives), and run over each packet by
/// pcap_offline_filter(3), the same BPF program tcpdump would run on a capture. So
/// `tcp[13] == 0x12` (the flags byte is SYN and ACK) means here what it means to tcpdump.
public final class DropRule {
    public let expression: String
    /// False once the rule has dropped its packet.
    public private(set) var armed = true
    private var program = bpf_program()
    private let dead: OpaquePointer

    public struct BadFilter: Error, CustomStringConvertible {
        public let description: String
    }

    /// Compiles `expression`; the error carries libpcap's own message.
    public init(_ expression: String) throws(BadFilter) {
        guard let dead = pcap_open_dead(DLT_RAW, 65535) else {
            throw BadFilter(description: "pcap_open_dead() failed for raw IP")
        }
        self.expression = expression
        self.dead = dead
        // On failure deinit still runs (every property is set): it frees `program` and closes `dead`.
        guard pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw BadFilter(description: "--drop '\(expression)': " + String(cString: pcap_geterr(dead)))
        }
    }

    deinit {
        pcap_freecode(&program)
        pcap_close(dead)
    }

    /// Runs the filter over one IP packet; a match uses the rule up. True when it matched.
    public func take(_ packet: UnsafeRawPointer, length: Int) -> Bool {
        guard armed else { return false }
        var header = pcap_pkthdr()
        header.caplen = bpf_u_int32(length)
        header.len = bpf_u_int32(length)
        let matched = pcap_offline_filter(&program, &header, packet.assumingMemoryBound(to: UInt8.self)) != 0
        if matched { armed = false }
        return matched
    }
}

/// The `--drop` rules, tried in order: the first armed rule that matches takes the packet.
public final class DropRules {
    public let rules: [DropRule]
    private var armedCount: Int

    public init(_ expressions: [String]) throws(DropRule.BadFilter) {
        var rules: [DropRule] = []
        for expression in expressions { rules.append(try DropRule(expression)) }
        self.rules = rules
        armedCount = rules.count
    }

    /// The 1-based number of the rule that drops this packet, or nil. Costs nothing once every
    /// rule is used up.
    @inline(__always)
    public func match(_ packet: UnsafeRawPointer, length: Int) -> Int? {
        guard armedCount > 0 else { return nil }
        for (index, rule) in rules.enumerated() where rule.take(packet, length: length) {
            armedCount -= 1
            return index + 1
        }
        return nil
    }
}
