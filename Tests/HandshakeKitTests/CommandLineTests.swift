import Foundation
import Testing
import TestSupport

/// handshake-watch as a user meets it on files: formats, flags, and the one-line errors.
@Suite("handshake-watch command line")
struct CommandLineTests {
    static var echo: String { packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path }

    @Test("a bad filter: one line naming it, exit 1")
    func badFilter() throws {
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "port", "abc"])
        #expect(run.status == 1)
        #expect(run.stderr.count == 1 && run.stderr.first?.hasPrefix("handshake-watch: bad filter 'port abc': ") == true, "\(run.stderr)")
    }

    @Test("a missing file, a directory, an empty file, a file that is not a capture, an unwritable -w: one line, exit 1")
    func badFiles() throws {
        let missing = try runCommand("handshake-watch", ["-r", "/nonexistent/x.pcap"])
        #expect(missing.status == 1)
        #expect(missing.stderr == ["handshake-watch: cannot read /nonexistent/x.pcap: No such file or directory"])
        let unwritable = try runCommand("handshake-watch", ["-r", Self.echo, "-w", "/nonexistent/x.pcap"])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr == ["handshake-watch: cannot write /nonexistent/x.pcap: No such file or directory"])
        let directoryAsFile = try runCommand("handshake-watch", ["-r", NSTemporaryDirectory()])
        #expect(directoryAsFile.status == 1)
        #expect(directoryAsFile.stderr.count == 1 && directoryAsFile.stderr[0].hasSuffix("Is a directory"), "\(directoryAsFile.stderr)")
        let scratch = try TemporaryDirectory()
        let empty = try runCommand("handshake-watch", ["-r", try scratch.write("empty.pcap", [])])
        #expect(empty.status == 1)
        #expect(empty.stderr.count == 1 && empty.stderr[0].contains("truncated dump file"), "\(empty.stderr)")
        let directory = try TemporaryDirectory()
        let text = try directory.write("notes.txt", Array("this is not a capture file\n".utf8))
        let notCapture = try runCommand("handshake-watch", ["-r", text])
        #expect(notCapture.status == 1)
        #expect(notCapture.stderr.count == 1 && notCapture.stderr[0].contains("unknown file format"), "\(notCapture.stderr)")
    }

    @Test("usage mistakes: one line naming the mistake, exit 1, as tcpdump", arguments: [
        (["--pace", "1"], "--pace and --step replay a file: add -r FILE"),
        (["-r", "F", "-i", "eth0"], "-i captures live and -r reads a file: give one of them"),
        (["-r", "F", "-c", "-1"], "-c must be at least 1"),
        (["-r", "F", "-s", "-5"], "-s must be between 64 and 262144"),
        (["-r", "F", "--pace", "-1"], "--pace must be between 0 and 3600 seconds"),
        (["-r", "F", "--max-connections", "-3"], "--max-connections must be at least 1"),
        (["-r", "F", "-w", "-"], "-w - would mix the pcap file with the text on stdout: give a file name"),
        (["-r", "F", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
        (["-r", "F", "--bogus"], "Unknown option '--bogus'"),
        (["-i", ""], "-i and -r need a name: an interface (see `ip link`), a file"),
        (["-r", "-", "--step"], "--step reads Enter from stdin, so -r - cannot read the capture from it"),
    ])
    func usageMistakes(_ arguments: [String], _ message: String) throws {
        let run = try runCommand("handshake-watch", arguments.map { $0 == "F" ? Self.echo : $0 })
        #expect(run.status == 1)
        #expect(run.stderr.count == 1, "\(run.stderr)")
        #expect(run.stderr.first?.hasPrefix("handshake-watch: \(message)") == true, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    /// Named before anything starts, as anyone: no "listening on" line first, no capture opened.
    @Test("--pid of a process that does not exist: one line, exit 1")
    func pidOfNoProcess() throws {
        // A process that has come and gone: its pid is free (until reused, which takes a while).
        let gone = try runCommand("/bin/sh", ["-c", "echo $$"])
        let pid = try #require(gone.stdout.first)
        let run = try runCommand("handshake-watch", ["--pid", pid])
        #expect(run.status == 1)
        #expect(run.stderr == ["handshake-watch: --pid \(pid): no such process"])
    }

    @Test("--help still prints the help on stdout and exits 0")
    func help() throws {
        let run = try runCommand("handshake-watch", ["--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains { $0.contains("pcap_set_snaplen(3)") })
    }

    @Test("-w onto the file -r reads is refused, and the file is left whole")
    func writeOverRead() throws {
        let directory = try TemporaryDirectory()
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.echo))
        let path = try directory.write("echo.pcap", Array(original))
        let run = try runCommand("handshake-watch", ["-r", path, "-w", directory.url.path + "/./echo.pcap"])
        #expect(run.status == 1)
        #expect(run.stderr.count == 1 && run.stderr[0].contains("would overwrite the file -r is reading"), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == original)
    }

    @Test("a link type it cannot decode: one line naming it and the ones it reads, exit 1")
    func unknownLinkType() throws {
        let directory = try TemporaryDirectory()
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.echo)))
        bytes.replaceSubrange(20..<24, with: le32(147))   // LINKTYPE_USER0
        let run = try runCommand("handshake-watch", ["-r", try directory.write("user0.pcap", bytes)])
        #expect(run.status == 1)
        #expect(run.stderr == ["handshake-watch: cannot decode link type 147 (unknown): handshake-watch reads Ethernet, "
                               + "Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP"])
    }

    @Test("-r - reads the capture from stdin")
    func readStdin() throws {
        let run = try runCommand("/bin/sh", ["-c", "exec \(ToolProcess.path(of: "handshake-watch")) -r - --format json < \(Self.echo)"])
        #expect(run.status == 0)
        #expect(run.stdout.count == 12, "10 packets, 1 connection, the stats")
    }

    @Test("the filter applies to files, tcp implied")
    func fileFilter() throws {
        let all = try JSONRun(["-r", Self.echo])
        let port = try #require(all.packets.first?["dport"] as? Int)
        let matching = try JSONRun(["-r", Self.echo, "dst", "port", "\(port)"])
        #expect(matching.packets.count == 6, "SYN, ACK, data, ACK, FIN, last ACK: the client's six")
        #expect(matching.stats?["received"] as? Int == 6)
        let none = try JSONRun(["-r", Self.echo, "port", "1"])
        #expect(none.packets.isEmpty && none.status == 0)
    }

    @Test("-c stops after COUNT packets and still prints the pending summaries")
    func count() throws {
        let run = try JSONRun(["-r", Self.echo, "-c", "3"])
        #expect(run.packets.map { $0["step"] as? String } == ["handshake-syn", "handshake-syn-ack", "handshake-ack"])
        #expect(run.connections.first?["outcome"] as? String == "open")
        #expect(run.connections.first?["closed_by"] as? String == "open")
    }

    @Test("text output: readiness line like tcpdump, explanations, summary, no colour into a pipe, --relative")
    func textOutput() throws {
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "--relative", "--no-events"])
        #expect(run.status == 0)
        #expect(run.stderr.first == "reading from file \(Self.echo), link-type EN10MB (Ethernet), snapshot length 256")
        #expect(run.stdout.count == 12)
        #expect(run.stdout[0].hasPrefix("0.000000 #1 127.0.0.1:"))
        #expect(run.stdout[0].contains("[SYN] seq 0 len 0 win 65495 <mss 65495"))
        #expect(run.stdout[0].hasSuffix("handshake 1/3: the client's connect() sends SYN and blocks"))
        #expect(run.stdout[10] == "   TIME_WAIT lasts 60 s on Linux (TCP_TIMEWAIT_LEN); RFC 9293's 2 x MSL is 4 min")   // once, under the last ACK
        #expect(run.stdout[11].contains("closed by the client, client in TIME_WAIT"))
        #expect(!run.stdout.joined().contains("\u{1B}["), "no ANSI codes when stdout is not a terminal")
        #expect(run.stderr.contains("10 packets captured"))
    }

    @Test("colour on a terminal; none with --no-color or NO_COLOR",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) gives a pseudo-terminal"))
    func colour() throws {
        let command = "env -u NO_COLOR \(ToolProcess.path(of: "handshake-watch")) -r \(Self.echo)"
        let onTerminal = try runCommand("/usr/bin/script", ["-qc", command, "/dev/null"])
        #expect(onTerminal.stdout.joined().contains("\u{1B}[32m[SYN]\u{1B}[0m"))
        let flag = try runCommand("/usr/bin/script", ["-qc", command + " --no-color", "/dev/null"])
        #expect(!flag.stdout.joined().contains("\u{1B}["))
        let environment = try runCommand("/usr/bin/script", ["-qc", "env NO_COLOR=1 " + command.dropFirst("env -u NO_COLOR ".count), "/dev/null"])
        #expect(!environment.stdout.joined().contains("\u{1B}["))
        #expect(environment.stdout.count >= 11)
    }

    @Test("ladder output: a header with both columns and an arrow per segment")
    func ladderOutput() throws {
        // Without the sidecar's calls (LadderCallsTests draws them): the packets alone.
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "--format", "ladder", "--no-events"])
        #expect(run.status == 0)
        #expect(run.stdout[0].hasPrefix("#1" + String(repeating: " ", count: 14) + "client 127.0.0.1:") && run.stdout[0].contains("server 127.0.0.1:"))
        #expect(run.stdout[0].count == run.stdout[1].prefix { $0 != ">" }.count + 2, "the server's name ends at the right bar")
        #expect(run.stdout[1].contains("|-- SYN seq 0 ") && run.stdout[1].contains(">|"))
        #expect(run.stdout[2].contains("|<-- SYN,ACK seq 0 ack 1 "))
        #expect(run.stdout.count == 12)
    }

    @Test("--pace spaces the packets out; --step waits for Enter")
    func replay() throws {
        // --pace holds each packet back: with an hour's pace the first line comes, the second
        // does not, until SIGINT ends the replay with what was shown (no clock is read here).
        let paced = try ToolProcess("handshake-watch", ["-r", Self.echo, "--pace", "3600", "--format", "json", "--no-events"])
        _ = try paced.waitForLine(containing: "handshake-syn\"")
        #expect(paced.stdout.count == 1, "the second packet waits out the pace")
        paced.signal(SIGINT)
        #expect(try paced.waitForExit() == 0)
        #expect(paced.stdout.filter { $0.contains("\"type\":\"packet\"") }.count == 1)
        let quick = try runCommand("handshake-watch", ["-r", Self.echo, "--pace", "0", "--format", "json", "--no-events"])
        #expect(quick.status == 0 && quick.stdout.count == 12)
        let stepping = try ToolProcess("handshake-watch", ["-r", Self.echo, "--step", "--format", "json", "--no-events"])
        _ = try stepping.waitForLine(containing: "handshake-syn\"")
        #expect(stepping.stdout.count == 1, "the second packet waits for Enter")
        stepping.write("\n")
        _ = try stepping.waitForLine(containing: "handshake-syn-ack")
        stepping.closeStdin()   // end of input: the rest without waiting
        #expect(try stepping.waitForExit() == 0)
        #expect(stepping.stdout.count == 12)
    }

    @Test("timestamps from a hostile file: a fraction of 1 s or more carries into the seconds, an older packet prints a negative --relative time")
    func oddTimestamps() throws {
        let directory = try TemporaryDirectory()
        let echo = Conversation.echo(client: "10.0.0.1", server: "10.0.0.2").prefix(3).map { $0.frame(.ethernet) }
        let frames = [FixtureFrame(seconds: 1_700_000_000, fraction: 10, bytes: echo[0]),
                      FixtureFrame(seconds: 1_700_000_000, fraction: 5, bytes: echo[1]),           // 5 µs before the first
                      FixtureFrame(seconds: 1_700_000_000, fraction: 2_500_000, bytes: echo[2])]   // 2.5 s in the µs field
        let path = try directory.write("odd-times.pcap", FixtureWriter.pcap(frames, linkType: 1))
        let text = try runCommand("handshake-watch", ["-r", path, "--relative"])
        #expect(text.status == 0)
        #expect(text.stdout.prefix(3).map { String($0.prefix { $0 != " " }) } == ["0.000000", "-0.000005", "2.499990"], "\(text.stdout)")
        let json = try JSONRun(["-r", path])
        #expect((json.packets.last?["time"] as? NSNumber)?.doubleValue == 1_700_000_002.5)
    }

    @Test("output that cannot be written (a full disk): one line naming the error, exit 1",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func fullDisk() throws {
        for format in ["text", "json"] {
            let run = try runCommand("/bin/sh", ["-c", "exec \(ToolProcess.path(of: "handshake-watch")) -r \(Self.echo) --format \(format) > /dev/full"])
            #expect(run.status == 1)
            #expect(run.stderr.last == "handshake-watch: cannot write the output: ENOSPC (No space left on device)", "\(run.stderr)")
        }
    }

    @Test("-w to a full disk: the packets still print, then one line naming the file, exit 1",
          .enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func writeFileFullDisk() throws {
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "-w", "/dev/full", "--format", "json", "--no-events"])
        #expect(run.status == 1)
        #expect(run.stdout.count == 12)
        #expect(run.stderr.last == "handshake-watch: cannot write /dev/full: No space left on device", "\(run.stderr)")
    }

    @Test("-w writes the packets read to a pcap file that tshark opens")
    func writeFile() throws {
        let directory = try TemporaryDirectory()
        let copy = directory.url.appendingPathComponent("copy.pcap").path
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "-w", copy, "--format", "json"])
        #expect(run.status == 0)
        #expect(try TsharkRow.read(copy).count == 10)
    }
}
