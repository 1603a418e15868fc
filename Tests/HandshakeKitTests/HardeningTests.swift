import Foundation
import Glibc
import Testing
import TestSupport

/// handshake-watch against hostile or odd input: each case of issue 10's section 4.
@Suite("handshake-watch hardening")
struct HardeningTests {
    static func echoFrames(seconds: UInt32 = 1_700_000_000, fraction: UInt32 = 10) -> [FixtureFrame] {
        Conversation.frames(Conversation.echo(client: "10.0.0.1", server: "10.0.0.2"), link: .ethernet)
            .map { FixtureFrame(seconds: seconds, fraction: fraction, bytes: $0.bytes) }
    }

    @Test("ts_sec ≥ 2^31 is unsigned: 0xFFFFFFFE/999999 is 4294967294.999999, as tshark reads it")
    func unsignedSeconds() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("late.pcap", FixtureWriter.pcap(Self.echoFrames(seconds: 0xFFFF_FFFE, fraction: 999_999), linkType: 1))
        let run = try runCommand("handshake-watch", ["--format", "json", "-r", path])
        #expect(run.status == 0)
        #expect(run.stdout.first?.contains(#""time":4294967294.999999,"#) == true, "\(run.stdout.first ?? "")")
        let big = try directory.write("big.pcap", FixtureWriter.pcap(Self.echoFrames(seconds: 0x8000_0000, fraction: 0), linkType: 1))
        let text = try runCommand("handshake-watch", ["-r", big], environment: ["TZ": "UTC"])
        #expect(text.stdout.first?.hasPrefix("03:14:08.000000 ") == true, "2038-01-19 03:14:08 UTC, not 1901: \(text.stdout.first ?? "")")
    }

    @Test("libpcap stopping mid-file (a huge caplen): the packets before it, one error line, exit 1")
    func hugeCaplen() throws {
        let directory = try TemporaryDirectory()
        var file = FixtureWriter.pcap(Self.echoFrames(), linkType: 1)
        file += le32(1_700_000_001) + le32(0) + le32(0x7FFF_FFFF) + le32(60)   // a record header claiming 2 GB
        let path = try directory.write("huge.pcap", file)
        let run = try runCommand("handshake-watch", ["--format", "json", "-r", path])
        #expect(run.status == 1)
        #expect(run.stdout.filter { $0.contains(#""type":"packet""#) }.count == 10)
        let errors = run.stderr.filter { !$0.hasPrefix("reading from file") }
        #expect(errors.count == 1 && errors[0].hasPrefix("handshake-watch: "), "\(run.stderr)")
    }

    @Test("-r - -w F < F: the same file as stdin is refused before anything is truncated")
    func sameFileThroughStdin() throws {
        let directory = try TemporaryDirectory()
        let bytes = FixtureWriter.pcap(Self.echoFrames(), linkType: 1)
        let path = try directory.write("in.pcap", bytes)
        let link = directory.url.appendingPathComponent("link.pcap").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        for output in [path, link] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ToolProcess.path(of: "handshake-watch"))
            process.arguments = ["-r", "-", "-w", output]
            process.standardInput = FileHandle(forReadingAtPath: path)
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 1)
            #expect(message.hasPrefix("handshake-watch: -w \(output) would overwrite the file -r - is reading"), "\(message)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == bytes.count)
        }
    }
}

extension HardeningTests {
    @Test("-r FIFO whose writer stalls (after the header, or after some packets): SIGINT and SIGTERM end it, status 0",
          arguments: [(SIGINT, 0), (SIGTERM, 0), (SIGINT, 3), (SIGTERM, 3)])
    func stalledFifo(_ signal: Int32, _ packetCount: Int) throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.url.appendingPathComponent("live.pcap").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // O_RDWR never blocks on a FIFO: the writer end stays open, the reader waits for more.
        let writer = open(fifo, O_RDWR)
        #expect(writer >= 0)
        defer { close(writer) }
        let file = FixtureWriter.pcap(Array(Self.echoFrames().prefix(packetCount)), linkType: 1)
        #expect(file.withUnsafeBytes { write(writer, $0.baseAddress, $0.count) } == file.count)
        let watcher = try ToolProcess("handshake-watch", ["-r", fifo])
        defer { watcher.stop() }
        _ = try watcher.waitForLine(containing: "reading from file", onStderr: true)
        try waitUntil("every packet is printed", timeout: 15) { watcher.stdout.filter { $0.contains(" #1 ") }.count == packetCount }   // printed as it arrives
        watcher.signal(signal)
        #expect(try watcher.waitForExit(timeout: 15) == 0)
        #expect(watcher.stdout.filter { $0.contains(" #1 ") }.count == packetCount)
    }
}

extension HardeningTests {
    @Test("a file of zero-filled records: one warning, then a count, not a line per record")
    func zeroFilledRecords() throws {
        let directory = try TemporaryDirectory()
        let frames = Array(repeating: FixtureFrame(seconds: 1_700_000_000, fraction: 0, bytes: [0, 0, 0, 0]), count: 5_000)
        let path = try directory.write("zero.pcap", FixtureWriter.pcap(frames, linkType: 1))
        let run = try runCommand("handshake-watch", ["-r", path])
        #expect(run.status == 0)
        let skips = run.stderr.filter { $0.hasPrefix("skipped") }
        #expect(skips == ["skipped packet 1: truncated Ethernet header", "skipped 4999 more packets: truncated Ethernet header"], "\(skips)")
    }
}
