import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

/// `handshake-watch -r --serve` holding a 3,000-connection capture, against clients that ask
/// for the big responses and never read them, and against thousands of connections that send
/// one byte: the page still answers, and the memory the non-readers cost goes back when they
/// leave. No capture here, but marked `.live`: scripts/test runs it alone, so the memory it
/// measures is its own.
// Left out under a sanitizer: the suite measures the server's RSS, which a sanitizer's shadow
// memory makes meaningless, and 300 clients over a 3,000-connection capture run for many
// minutes there. It runs in every `make test`.
@Suite("LiveViewNonReaders", .live, .serialized,
       .disabled(if: Sanitizer.name != nil, "measures RSS, which a sanitizer's shadow memory makes meaningless; runs in make test"))
struct LiveViewNonReaderTests {
    /// A capture of `count` complete connections (SYN, SYN-ACK, ACK, FIN, FIN, ACK), one after
    /// the other, on Ethernet/IPv4, as tcpdump -w writes it (microsecond pcap).
    static func writeCapture(connections count: Int, to path: String) throws {
        var bytes: [UInt8] = []
        func le32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        func le16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        le32(0xA1B2_C3D4); le16(2); le16(4); le32(0); le32(0); le32(65535); le32(1)
        var micros: UInt64 = 1_700_000_000 * 1_000_000
        func packet(_ fromClient: Bool, _ clientPort: UInt16, _ flags: UInt8, _ seq: UInt32, _ ack: UInt32) {
            var frame: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00]
            let client: [UInt8] = [10, 0, 0, 1], server: [UInt8] = [10, 0, 0, 2]
            frame += [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0] + (fromClient ? client + server : server + client)
            let (sport, dport) = fromClient ? (clientPort, UInt16(80)) : (UInt16(80), clientPort)
            for v in [sport, dport] { frame += [UInt8(v >> 8), UInt8(v & 0xFF)] }
            for v in [seq, ack] { frame += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
            frame += [0x50, flags, 0xFF, 0xFF, 0, 0, 0, 0]
            micros += 7
            le32(UInt32(micros / 1_000_000)); le32(UInt32(micros % 1_000_000)); le32(UInt32(frame.count)); le32(UInt32(frame.count))
            bytes += frame
        }
        let (syn, fin, ack): (UInt8, UInt8, UInt8) = (0x02, 0x01, 0x10)
        for n in 0 ..< count {
            let port = UInt16(10_000 + n % 50_000)
            let c = UInt32(1_000 + n), s = UInt32(900_000 + n)
            packet(true, port, syn, c, 0)
            packet(false, port, syn | ack, s, c + 1)
            packet(true, port, ack, c + 1, s + 1)
            packet(true, port, fin | ack, c + 1, s + 1)
            packet(false, port, fin | ack, s + 1, c + 2)
            packet(true, port, ack, c + 2, s + 2)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The resident memory of a process, in bytes (VmRSS).
    static func residentBytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// GET `path` with curl, bounded; its status and body.
    static func get(_ port: Int, _ path: String) throws -> (status: Int32, body: String) {
        let run = try runCommand("/usr/bin/curl", ["-sf", "--max-time", "120", "http://127.0.0.1:\(port)\(path)"])
        return (run.status, run.stdout.joined(separator: "\n"))
    }

    /// A client that asks for `path` and then reads nothing: it waits for the first byte of the
    /// answer (the server has begun), with a small receive buffer, and keeps the socket open.
    static func nonReader(_ port: Int, _ path: String) throws -> Socket {
        let socket = try Socket.connected(host: "127.0.0.1", port: port, timeout: 60)
        try socket.setBufferSizes(receive: 4096)
        try socket.sendAll(Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        try socket.setReceiveTimeout(seconds: 120)
        #expect(try socket.recv(maxBytes: 1).count == 1, "\(path): the answer begins")
        return socket
    }

    @Test("the page answers while 100 /events.jsonl and 200 /ladder.svg readers never read, and the memory they held goes back")
    func pageAnswersAndMemoryFallsBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nonreaders-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = directory.appendingPathComponent("3000.pcap").path
        try Self.writeCapture(connections: 3_000, to: capture)
        let watcher = try ToolProcess("handshake-watch", ["-r", capture, "--serve", "0"])
        defer { watcher.stop() }
        let port = try watcher.waitForPort(containing: "serving the live view on", onStderr: true, timeout: 60)
        _ = try watcher.waitForLine(containing: "packets captured", onStderr: true, timeout: 300)

        // Each whole, once: what a reader gets, and the memory of a server that has drawn it.
        let svg = try Self.get(port, "/ladder.svg")
        #expect(svg.status == 0 && svg.body.hasSuffix("</svg>"))
        #expect(svg.body.components(separatedBy: "<g transform=").count - 1 == 3_000)
        let lines = try Self.get(port, "/events.jsonl")
        #expect(lines.status == 0 && lines.body.split(separator: "\n").count >= 18_000)
        let before = Self.residentBytes(watcher.pid)

        var held: [Socket] = []
        defer { for socket in held { try? socket.close() } }
        for _ in 0 ..< 100 { held.append(try Self.nonReader(port, "/events.jsonl")) }
        for _ in 0 ..< 200 { held.append(try Self.nonReader(port, "/ladder.svg")) }

        let page = try Self.get(port, "/")
        #expect(page.status == 0 && page.body.contains("<html"), "the page answers while 300 clients do not read")
        #expect(try Self.get(port, "/ladder.svg?conn=7").body.hasSuffix("</svg>"), "and a diagram for a reader")
        let during = Self.residentBytes(watcher.pid)

        for socket in held { try socket.close() }
        held = []
        // What the non-readers held (their pieces, their connections) is freed and handed back.
        let bound = before + 32 << 20
        try waitUntil("the watcher's memory is back under \(bound >> 20) MiB (before: \(before >> 20) MiB, during: \(during >> 20) MiB)",
                      timeout: 120) { Self.residentBytes(watcher.pid) <= bound }
        #expect(try Self.get(port, "/").status == 0)
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
    }

    @Test("4,300 connections that sent one byte each do not lock the page out")
    func oneByteConnectionsLeaveThePage() throws {
        var (soft, hard) = try Syscall.descriptorLimit()
        if soft < 5_000 && hard >= 5_000 {
            try Syscall.setDescriptorLimit(soft: hard)
            soft = hard
        }
        try #require(soft >= 5_000, "4,300 client sockets need a descriptor limit of 5,000 (hard limit \(hard))")
        let watcher = try ToolProcess("handshake-watch", ["-r", "captures/echo-ipv4.pcap", "--serve", "0"],
                                      currentDirectory: packageRoot.path)
        defer { watcher.stop() }
        let port = try watcher.waitForPort(containing: "serving the live view on", onStderr: true, timeout: 60)
        var held: [Socket] = []
        defer { for socket in held { try? socket.close() } }
        for _ in 0 ..< 4_300 {
            let socket = try Socket.connected(host: "127.0.0.1", port: port, timeout: 60)
            try socket.sendAll(Array("G".utf8))
            held.append(socket)
        }
        let page = try Self.get(port, "/")
        #expect(page.status == 0 && page.body.contains("<html"), "the page answers past 4,300 stalled request heads")
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
    }
}
