import Foundation
import Testing
import TestSupport

/// Runs the built handshake-watch on a file with `--format json` and splits its output.
struct JSONRun {
    var status: Int32
    var packets: [[String: Any]]
    var connections: [[String: Any]]
    var stats: [String: Any]?
    /// Every other object: a capture's recorded events (syscall, output, kernel types), in order.
    var events: [[String: Any]]
    /// Every object, in output order.
    var all: [[String: Any]]
    var stderr: [String]

    init(_ arguments: [String]) throws {
        let run = try runCommand("handshake-watch", ["--format", "json"] + arguments, timeout: 60)
        status = run.status
        stderr = run.stderr
        packets = []
        connections = []
        events = []
        all = []
        for line in run.stdout where !line.isEmpty {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            all.append(object)
            switch object["type"] as? String {
            case "packet": packets.append(object)
            case "connection": connections.append(object)
            case "stats": stats = object
            case .some: events.append(object)
            case nil: Issue.record("an object without a type: \(line)")
            }
        }
    }
}

/// tshark's reading of a capture: one row per frame with TCP.
struct TsharkRow {
    var frame: Int
    var time: String
    var source: String
    var sourcePort: Int
    var destination: String
    var destinationPort: Int
    var flags: Int
    var sequence: UInt64
    var acknowledgement: UInt64
    var length: Int
    /// Wireshark's relative sequence and acknowledgement numbers (tcp.seq, tcp.ack).
    var relativeSequence: UInt64
    var relativeAcknowledgement: UInt64
    /// tcp.window_size_value (the header's field), tcp.window_size (scaled), and
    /// tcp.window_size_scalefactor (-1: unknown, the handshake was not seen; -2: no scaling).
    var rawWindow: Int
    var window: Int
    var scaleFactor: Int

    static func read(_ path: String) throws -> [TsharkRow] {
        let fields = ["frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
                      "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.seq", "tcp.ack",
                      "tcp.window_size_value", "tcp.window_size", "tcp.window_size_scalefactor"]
        let run = try runCommand("/usr/bin/tshark", ["-n", "-r", path, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
                                 + fields.flatMap { ["-e", $0] }, timeout: 60)
        try #require(run.status == 0, "tshark failed: \(run.stderr)")
        return run.stdout.compactMap { line -> TsharkRow? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == fields.count, let sport = Int(f[4]), let dport = Int(f[7]) else { return nil }
            return TsharkRow(frame: Int(f[0]) ?? 0, time: f[1], source: f[2].isEmpty ? f[3] : f[2], sourcePort: sport,
                             destination: f[5].isEmpty ? f[6] : f[5], destinationPort: dport,
                             flags: Int(f[8].dropFirst(2), radix: 16) ?? -1, sequence: UInt64(f[9]) ?? 0,
                             acknowledgement: UInt64(f[10]) ?? 0, length: Int(f[11]) ?? -1,
                             relativeSequence: UInt64(f[12]) ?? 0, relativeAcknowledgement: UInt64(f[13]) ?? 0,
                             rawWindow: Int(f[14]) ?? -1, window: Int(f[15]) ?? -1, scaleFactor: Int(f[16]) ?? -1)
        }
    }
}

/// Compares our packets with tshark's rows, field by field.
func compareWithTshark(_ path: String, skipped: Set<Int> = []) throws {
    let ours = try JSONRun(["-r", path])
    #expect(ours.status == 0, "exit status \(ours.status): \(ours.stderr)")
    let theirs = try TsharkRow.read(path).filter { !skipped.contains($0.frame) }
    #expect(theirs.count > 0)
    #expect(ours.packets.count == theirs.count, "\(path): we decoded \(ours.packets.count) packets, tshark \(theirs.count)")
    for (packet, row) in zip(ours.packets, theirs) {
        let flagNames = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
        let expectedFlags = flagNames.enumerated().filter { row.flags & (1 << $0.offset) != 0 }.map(\.element)
        let context = "\(path) frame \(row.frame)"
        #expect(packet["src"] as? String == row.source, "\(context)")
        #expect(packet["dst"] as? String == row.destination, "\(context)")
        #expect(packet["sport"] as? Int == row.sourcePort, "\(context)")
        #expect(packet["dport"] as? Int == row.destinationPort, "\(context)")
        #expect(packet["flags"] as? [String] == expectedFlags, "\(context)")
        #expect((packet["seq"] as? NSNumber)?.uint64Value == row.sequence, "\(context)")
        if expectedFlags.contains("ACK") {
            #expect((packet["ack"] as? NSNumber)?.uint64Value == row.acknowledgement, "\(context)")
        }
        #expect(packet["len"] as? Int == row.length, "\(context)")
        // The window: raw as in the header; scaled as Wireshark scales it once it saw both SYNs
        // (a SYN's own window is never scaled), null where Wireshark does not know the scale either.
        #expect(packet["win_raw"] as? Int == row.rawWindow, "\(context) win_raw")
        if expectedFlags.contains("RST") && row.scaleFactor == -1 {
            #expect(packet["win"] as? Int == row.rawWindow, "\(context) win of a RST: as sent (a RST's window means nothing)")
        } else if expectedFlags.contains("SYN") {
            #expect(packet["win"] as? Int == row.rawWindow, "\(context) win of a SYN")
        } else if row.scaleFactor == -1 {
            #expect(packet["win"] is NSNull, "\(context) win with the scale unknown")
        } else if !(packet["win"] is NSNull) {
            // (Before the SYN-ACK Wireshark already scales by the SYN's option; we wait for both.)
            #expect(packet["win"] as? Int == row.window, "\(context) win")
        }
        // Time: tshark prints 9 decimals; ours has 6 (or 9 for nanosecond files). Compare digits.
        let ourTime = try #require(packet["time"] as? NSNumber)
        #expect(abs(ourTime.doubleValue - (Double(row.time) ?? 0)) < 1e-6, "\(context) time")
    }
    #expect((ours.stats?["skipped"] as? Int) == skipped.count, "\(path) skipped")
    try compareRelativeNumbers(path, with: theirs)
}

/// The text output's relative `seq N ack M` against Wireshark's tcp.seq and tcp.ack: both count
/// from a side's SYN, or from one before the first number seen of a connection met mid-stream.
func compareRelativeNumbers(_ path: String, with theirs: [TsharkRow]) throws {
    let text = try runCommand("handshake-watch", ["-r", path], timeout: 60)
    let lines = text.stdout.filter { $0.firstMatch(of: #/^\S+ #\d+ /#) != nil }
    #expect(lines.count == theirs.count, "\(path): \(lines.count) text lines, tshark \(theirs.count) packets")
    for (line, row) in zip(lines, theirs) {
        // "... [PSH,ACK] seq 1 ack 6 len 5 ...": the words after the flags.
        let words = try #require(line.split(separator: "] ", maxSplits: 1).last?.split(separator: " "), "\(path): \(line)")
        try #require(words.count >= 2 && words[0] == "seq", "\(path): \(line)")
        // A deviation, by design: the RST refusing a SYN shows its wire seq, 0 (RFC 9293), where
        // Wireshark counts 1 from a SYN its side never sent.
        let refusing = line.contains("connection refused")
        #expect(UInt64(words[1]) == (refusing ? 0 : row.relativeSequence), "\(path) frame \(row.frame) relative seq: \(line)")
        if words.count >= 4 && words[2] == "ack" {
            #expect(UInt64(words[3]) == row.relativeAcknowledgement, "\(path) frame \(row.frame) relative ack: \(line)")
        }
    }
}

@Suite("Offline decoding against tshark")
struct OfflineDecodingTests {
    /// Every capture in captures/ (the http-server's too), so a new recording is checked as well.
    static let recorded: [String] = {
        let directory = packageRoot.appendingPathComponent("captures").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".pcap") }.sorted()
    }()

    @Test("the recorded captures the lessons use are all there")
    func recordedSet() {
        for name in ["echo-ipv4.pcap", "echo-ipv6.pcap", "refused.pcap", "linger-reset.pcap",
                     "syn-backlog.pcap", "half-close.pcap", "accept-delay.pcap"] {
            #expect(Self.recorded.contains(name), "\(name)")
        }
    }

    @Test("recorded loopback captures decode as tshark decodes them", arguments: recorded)
    func recordedCapture(_ name: String) throws {
        try compareWithTshark(packageRoot.appendingPathComponent("captures/\(name)").path)
    }

    @Test("generated fixtures (every link type, pcapng, nanoseconds, broken packets) decode as tshark decodes them",
          arguments: Fixture.all)
    func generatedFixture(_ fixture: Fixture) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(fixture.name, fixture.bytes)
        try compareWithTshark(path, skipped: Set(fixture.skipped.keys))
    }

    @Test("each broken packet is named on stderr with its frame number and reason, and counted")
    func malformedWarnings() throws {
        let directory = try TemporaryDirectory()
        let fixture = Fixture.malformed
        let path = try directory.write(fixture.name, fixture.bytes)
        let run = try JSONRun(["-r", path])
        #expect(run.status == 0)
        for (frame, reason) in fixture.skipped {
            #expect(run.stderr.contains { $0.hasPrefix("skipped packet \(frame): \(reason)") }, "frame \(frame): \(run.stderr)")
        }
        #expect(run.stats?["skipped"] as? Int == fixture.skipped.count)
        #expect(run.stats?["received"] as? Int == 11)
    }

    @Test("IP lengths past the frame are cut to it (as Wireshark); UDP fragments ignored, a TCP fragment skipped with a warning; options cut by -s kept; Ethernet padding")
    func lengthsAndFragments() throws {
        let directory = try TemporaryDirectory()
        let fixture = Fixture.lengthsAndFragments
        let run = try JSONRun(["-r", try directory.write(fixture.name, fixture.bytes)])
        #expect(run.packets.map { $0["len"] as? Int } == [0, 5, 5, 55, 0, 0, 0, 0], "Ethernet padding is not payload")
        #expect(run.packets[5]["flags"] as? [String] == ["SYN"], "a SYN whose options -s cut is still the SYN")
        #expect(run.stderr.filter { $0.hasPrefix("skipped packet") } == ["skipped packet 7: IPv4 fragment (not reassembled)"])
        #expect(run.stats?["skipped"] as? Int == 1)
    }

    @Test("nanosecond files print 9 decimals, microsecond files 6")
    func timestampPrecision() throws {
        let directory = try TemporaryDirectory()
        for fixture in Fixture.all where ["nanosecond.pcap", "nanosecond.pcapng", "microsecond.pcapng", "echo-ethernet.pcap"].contains(fixture.name) {
            let path = try directory.write(fixture.name, fixture.bytes)
            let run = try runCommand("handshake-watch", ["--format", "json", "-r", path])
            let first = try #require(run.stdout.first)
            let digits = fixture.name.hasPrefix("nanosecond") ? 9 : 6
            #expect(first.contains(#""time":1700000000.\#(String(repeating: "0", count: digits - 2))10,"#), "\(fixture.name): \(first)")
        }
    }

    @Test("a file cut in the middle of a packet: the packets before it, the error, exit 1 (as tcpdump)")
    func truncatedFile() throws {
        let directory = try TemporaryDirectory()
        let whole = FixtureWriter.pcap(Conversation.frames(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2"), link: .ethernet), linkType: 1)
        let path = try directory.write("cut.pcap", Array(whole.dropLast(30)))
        let run = try JSONRun(["-r", path])
        #expect(run.status == 1)
        #expect(run.packets.count == 9)
        #expect(run.stderr.contains { $0.contains("truncated") }, "\(run.stderr)")
    }

    @Test("the JSON schema: packet, connection and stats objects with the documented fields")
    func jsonSchema() throws {
        let run = try JSONRun(["-r", packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path])
        let syn = try #require(run.packets.first)
        #expect(Set(syn.keys) == ["type", "time", "src", "sport", "dst", "dport", "flags", "seq", "ack", "len",
                                  "win", "win_raw", "conn", "step", "frame", "analysis"])
        #expect(run.packets.map { $0["frame"] as? Int } == Array(1...10).map { Optional($0) })
        #expect(run.packets.allSatisfy { ($0["analysis"] as? [Any])?.isEmpty == true })
        // Keys in EVENTS.md's order.
        let raw = try runCommand("handshake-watch", ["--format", "json", "--no-events", "-r",
                                                     packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path])
        let firstLine = try #require(raw.stdout.first)
        #expect(firstLine.matches(of: /"(\w+)":/).map { String($0.output.1) } == [
            "type", "time", "src", "sport", "dst", "dport", "flags", "seq", "ack", "len", "win", "win_raw", "conn", "step",
            "frame", "analysis"])
        #expect(run.packets.map { $0["step"] as? String } == [
            "handshake-syn", "handshake-syn-ack", "handshake-ack", "data", "ack", "data", "ack",
            "fin-active", "fin-passive", "teardown-ack"])
        let connection = try #require(run.connections.first)
        #expect(Set(connection.keys) == ["type", "time", "conn", "client", "server", "handshake_rtt_ms", "bytes_to_server",
                                         "bytes_to_client", "closed_by", "time_wait", "outcome", "duration_s", "packets",
                                         "retransmits", "retransmitted_bytes", "dup_acks", "zero_window_s", "max_backoff",
                                         "conn_state", "history"])
        #expect(connection["conn_state"] as? String == "SF" && connection["history"] as? String == "ShADadFf")
        #expect(connection["bytes_to_server"] as? Int == 5)
        #expect(connection["bytes_to_client"] as? Int == 5)
        #expect(connection["closed_by"] as? String == "client")
        #expect(connection["time_wait"] as? String == "client")
        #expect(connection["outcome"] as? String == "closed")
        #expect(connection["packets"] as? Int == 10)
        #expect((connection["client"] as? String)?.hasPrefix("127.0.0.1:") == true)
        #expect(run.stats?["received"] as? Int == 10)
        #expect(run.stats?["dropped"] as? Int == 0)
    }

    @Test("recorded events: refused, SO_LINGER 0, SYN retransmissions, half-close, accept delay")
    func recordedEvents() throws {
        func run(_ name: String) throws -> JSONRun { try JSONRun(["-r", packageRoot.appendingPathComponent("captures/\(name)").path]) }
        let refused = try run("refused.pcap")
        #expect(refused.packets.map { $0["step"] as? String } == ["handshake-syn", "rst"])
        #expect(refused.connections.first?["outcome"] as? String == "refused")
        let linger = try run("linger-reset.pcap")
        #expect(linger.packets.last?["step"] as? String == "rst")
        #expect(linger.connections.first?["closed_by"] as? String == "reset")
        let backlog = try run("syn-backlog.pcap")
        #expect(backlog.packets.contains { $0["step"] as? String == "syn-retransmit" })
        #expect(backlog.connections.contains { $0["outcome"] as? String == "no-answer" })
        let halfClose = try run("half-close.pcap")
        let steps = halfClose.packets.map { $0["step"] as? String ?? "" }
        let fin = try #require(steps.firstIndex(of: "fin-active"))
        #expect(steps[(fin + 1)...].contains("data"), "data after the first FIN: \(steps)")
        #expect(halfClose.connections.first?["bytes_to_client"] as? Int == 28)
        let delay = try run("accept-delay.pcap")
        let times = delay.packets.compactMap { ($0["time"] as? NSNumber)?.doubleValue }
        #expect(times[3] - times[0] < 0.5 && times[5] - times[0] > 0.5, "Hello arrives before accept(), the echo after")
        let directory = try TemporaryDirectory()
        let fixture = try #require(Fixture.all.first { $0.name == "simultaneous-close.pcap" })
        let simultaneous = try JSONRun(["-r", try directory.write(fixture.name, fixture.bytes)])
        #expect(simultaneous.connections.first?["closed_by"] as? String == "both")
        #expect(simultaneous.connections.first?["time_wait"] as? String == "both")
        #expect(simultaneous.packets.map { $0["step"] as? String }.suffix(4) == ["fin-active", "fin-passive", "ack", "teardown-ack"])
    }
}
