import Testing
import Timeline
@testable import LabLinkKit

@Suite struct DropRuleTests {
    private func match(_ rules: DropRules, _ packet: [UInt8]) -> Int? {
        packet.withUnsafeBytes { rules.match($0.baseAddress!, length: $0.count) }
    }

    @Test func aRuleDropsItsFirstMatchOnlyThenIsUsedUp() throws {
        let rules = try DropRules(["tcp[13] == 0x12"])
        #expect(match(rules, Packets.tcp4(flags: 0x02)) == nil)           // SYN
        #expect(match(rules, Packets.tcp4(flags: 0x12)) == 1)             // SYN-ACK: dropped
        #expect(match(rules, Packets.tcp4(flags: 0x12)) == nil)           // the retransmission passes
        #expect(rules.rules[0].armed == false)
    }

    @Test func threeRulesLoseTheFirstThreeInOrder() throws {
        let rules = try DropRules(["tcp[13] == 0x12", "tcp[13] == 0x12", "tcp[13] == 0x12"])
        let synAck = Packets.tcp4(flags: 0x12)
        #expect([match(rules, synAck), match(rules, synAck), match(rules, synAck), match(rules, synAck)]
                == [1, 2, 3, nil])
    }

    @Test func rulesAreTriedInOrderAndSeeIPv6Too() throws {
        // libpcap's `tcp[...]` reads IPv4 only; `ip6 and tcp` is how a rule names IPv6 TCP.
        let rules = try DropRules(["ip6 and tcp", "tcp[13] & 2 != 0"])
        #expect(match(rules, Packets.tcp4(flags: 0x02)) == 2)
        #expect(match(rules, Packets.tcp6(flags: 0x02)) == 1)
        #expect(match(rules, Packets.tcp6(flags: 0x02)) == nil)
    }

    @Test func theDataSegmentFilterSkipsTheHandshake() throws {
        // pcap's `len` is the whole packet's length: a TCP payload is the IP length less both headers.
        let rules = try DropRules(["tcp and ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) > 0"])
        #expect(match(rules, Packets.tcp4(flags: 0x02)) == nil)
        #expect(match(rules, Packets.tcp4(flags: 0x10)) == nil)
        #expect(match(rules, Packets.tcp4(flags: 0x18, payload: 100)) == 1)
    }

    @Test func aBadFilterCarriesLibpcapsMessage() {
        do {
            _ = try DropRules(["tcp[13] === 2"])
            Issue.record("compiled")
        } catch {
            #expect(error.description.hasPrefix("--drop 'tcp[13] === 2': "))
            #expect(error.description.contains("syntax error"))
        }
    }

    @Test func aDroppedPacketBecomesALinkDropEvent() {
        let packet = Packets.tcp4(flags: 0x12, seq: 3_654_838_884)
        let summary = packet.withUnsafeBytes { PacketSummary($0) }
        let event = summary.dropEvent(time: .init(microseconds: 1_795_642_942_605_030), direction: .toClient, reason: .rule)
        #expect(event.jsonLine == #"{"type":"link-drop","time":1795642942.605030,"dir":"s→c","reason":"rule","src":"10.77.0.2","sport":5000,"dst":"10.77.0.1","dport":40000,"flags":["SYN","ACK"],"seq":3654838884,"len":0}"#)
        #expect(event.linkDropText == "✗ s→c lost (rule) 10.77.0.2:5000 → 10.77.0.1:40000 [SYN,ACK] seq 3654838884 len 0")
        let back = try? TimelineEvent(jsonLine: event.jsonLine)
        #expect(back == event)
        let data = Packets.tcp6(flags: 0x18, payload: 30).withUnsafeBytes { PacketSummary($0) }
        #expect(data.dropEvent(time: .init(microseconds: 0), direction: .toServer, reason: .loss).linkDropText
                == "✗ c→s lost (loss) [fd77::1]:40000 → [fd77::2]:5000 [PSH,ACK] seq 7 len 30")
        let datagram = Packets.udp4(payload: 12).withUnsafeBytes { PacketSummary($0) }
        #expect(datagram.sourcePort == 9000 && datagram.payloadLength == 12 && datagram.sequence == nil)
    }

    @Test func truncatedPacketsDecodeWithoutReadingPastTheirEnd() {
        let packet = Packets.tcp4(flags: 0x12)
        for length in 0..<packet.count {
            let summary = packet.withUnsafeBytes { PacketSummary(UnsafeRawBufferPointer(rebasing: $0[..<length])) }
            #expect(summary.payloadLength >= 0)
        }
    }
}
