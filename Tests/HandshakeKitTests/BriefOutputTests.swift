import Foundation
import Testing
import TestSupport
import Timeline

/// `--brief` (a projector's 80 columns) and `--color always|auto|never`.
@Suite("handshake-watch --brief and --color")
struct BriefOutputTests {
    static var captures: [String] {
        let folder = packageRoot.appendingPathComponent("captures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.sorted().map { folder.appendingPathComponent($0).path }
    }

    @Test("every capture in captures/: each brief line (packets, the addresses, the summaries) fits 80 columns, with win and no TCP options")
    func everyCaptureFits() throws {
        #expect(Self.captures.count >= 8)
        for capture in Self.captures {
            let run = try runCommand("handshake-watch", ["-r", capture, "--brief", "--no-events"])
            #expect(run.status == 0)
            #expect(!run.stdout.isEmpty)
            for line in run.stdout {
                #expect(line.count <= 80, "\(capture): \(line.count) columns: \(line)")
                #expect(!line.contains("<mss"), "no options: \(line)")
            }
            let packets = run.stdout.filter { $0.contains(" seq ") }
            #expect(!packets.isEmpty && packets.allSatisfy { $0.contains(" len ") && $0.contains(" win ") }, "\(capture)")
        }
    }

    @Test("the longest IPv4 addresses and ports: the address line and the packet lines still fit 80 columns")
    func longestAddresses() throws {
        let directory = try TemporaryDirectory()
        let frames = Conversation.echo(client: "255.255.255.255", server: "255.255.255.254", clientPort: 65_535, serverPort: 65_534)
            .enumerated().map { FixtureFrame(seconds: 1_700_000_000, fraction: UInt32($0.offset) * 1000, bytes: $0.element.frame(.ethernet)) }
        let path = try directory.write("long.pcap", FixtureWriter.pcap(frames, linkType: 1))
        let run = try runCommand("handshake-watch", ["-r", path, "--brief"])
        #expect(run.status == 0)
        #expect(run.stdout.contains { $0.hasSuffix(" #1 client 255.255.255.255:65535 → server 255.255.255.254:65534") }, "\(run.stdout)")
        #expect(run.stdout.contains { $0.contains(" #1 c→s [SYN] seq 0 len 0 win ") && $0.hasSuffix("  open 1/3") }, "\(run.stdout)")
        for line in run.stdout { #expect(line.count <= 80, "\(line.count) columns: \(line)") }
    }

    @Test("--color always colours even into a pipe; never and auto (a pipe is no terminal) do not; NO_COLOR does not override always")
    func colour() throws {
        let echo = packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path
        let always = try runCommand("handshake-watch", ["-r", echo, "--brief", "--color", "always"], environment: ["NO_COLOR": "1"])
        #expect(always.status == 0 && always.stdout.contains { $0.contains("\u{1B}[32m[SYN]\u{1B}[0m") })
        // The direction has a colour as well as an arrow: one for each way, in brief and full lines.
        #expect(always.stdout.contains { $0.contains("\u{1B}[1;96mc→s\u{1B}[0m \u{1B}[32m[SYN]") })
        #expect(always.stdout.contains { $0.contains("\u{1B}[1;93ms→c\u{1B}[0m \u{1B}[32m[SYN,ACK]") })
        let full = try runCommand("handshake-watch", ["-r", echo, "--color", "always"])
        #expect(full.stdout.contains { $0.contains(" \u{1B}[1;96m→\u{1B}[0m ") && $0.contains("[SYN]") })
        for mode in ["never", "auto"] {
            let run = try runCommand("handshake-watch", ["-r", echo, "--brief", "--color", mode])
            #expect(run.status == 0 && !run.stdout.joined().contains("\u{1B}["), "\(mode)")
        }
        let bad = try runCommand("handshake-watch", ["-r", echo, "--color", "sometimes"])
        #expect(bad.status == 1 && bad.stderr.count == 1, "\(bad.stderr)")
        let json = try runCommand("handshake-watch", ["-r", echo, "--brief", "--format", "json"])
        #expect(json.status == 1 && json.stderr == ["handshake-watch: --brief shortens the text lines: it goes with --format text only (see --help)"], "\(json.stderr)")
    }

    @Test("JSON: every object has a time after its type, the connection's its last packet's, the stats' the capture's end")
    func everyObjectHasATime() throws {
        let echo = packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path
        let run = try runCommand("handshake-watch", ["-r", echo, "--format", "json"])
        #expect(run.status == 0)
        for line in run.stdout {
            #expect(line.range(of: #"^\{"type":"[a-z-]+","time":[0-9]+\.[0-9]{6,9},"#, options: .regularExpression) != nil, "\(line)")
        }
        let lastPacket = try #require(run.stdout.last { $0.hasPrefix(#"{"type":"packet""#) })
        let time = String(lastPacket.dropFirst(#"{"type":"packet","time":"#.count).prefix { $0 != "," })
        #expect(run.stdout.contains { $0.hasPrefix(#"{"type":"connection","time":\#(time),"#) })
        #expect(run.stdout.last?.hasPrefix(#"{"type":"stats","time":\#(time),"#) == true)
    }

    @Test("Timeline's reader takes every object handshake-watch writes, of every capture, sidecar events included")
    func timelineReadsEveryObject() throws {
        let directory = try TemporaryDirectory()
        for capture in Self.captures {
            let run = try runCommand("handshake-watch", ["-r", capture, "--format", "json"])
            #expect(run.status == 0)
            let path = try directory.write("out.jsonl", Array((run.stdout.joined(separator: "\n") + "\n").utf8))
            let contents = try #require(try EventsFile.read(path: path))
            #expect(contents.rejected.isEmpty, "\(capture): \(contents.rejected.prefix(3))")
            #expect(contents.events.count == run.stdout.count, "\(capture)")
            #expect(contents.events.contains { $0.type == "connection" } && contents.events.last?.type == "stats", "\(capture)")
        }
    }
}
