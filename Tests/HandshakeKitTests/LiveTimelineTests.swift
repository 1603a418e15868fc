import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport
import Timeline

/// The timeline's guarantees, checked from the stamps alone: `--trace` spans (start, duration) of
/// echo-server and echo-client against the packets handshake-watch captured, for 20 connections.
/// What TCP guarantees, and nothing more (whether connect() returns before accept() is the
/// scheduler's business):
/// - connect() starts before the SYN and returns after the handshake's ACK;
/// - accept() returns after that ACK;
/// - shutdown()/close() starts before the FIN it sends;
/// - a recv() that returns 0 returns after the peer's FIN.
/// Stamps are whole microseconds, so "before" is `<=` at that resolution, and a return is allowed
/// the microsecond that cutting its start to the microsecond can cost.
@Suite("LiveTimeline", .live, .serialized, .enabled(if: Privileges.canCapture, "live capture needs root or CAP_NET_RAW"))
struct LiveTimelineTests {
    /// A call's span from a trace line, on the epoch clock.
    struct Span {
        var start: EpochTime
        var end: EpochTime
        var text: String
    }

    static func spans(_ lines: [String], label: String) -> [Span] {
        let now = Clock.now()
        return lines.compactMap { line in
            guard let event = TraceLine.event(line, near: now, label: label, pid: 0) else { return nil }
            return Span(start: event.time, end: event.end, text: event.string("text") ?? "")
        }
    }

    @Test("20 echo round trips: every connection's calls hold their packets, as TCP says they must")
    func spansHoldTheirPackets() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--trace", "--mode", "iterative"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let watcher = try LiveCaptureTests.watch(port: port)
        defer { watcher.stop() }

        var clients: [(port: Int, spans: [Span])] = []
        for round in 0..<20 {
            let run = try runCommand("echo-client", ["--port", "\(port)", "--trace", "round \(round)"], timeout: 30)
            try #require(run.status == 0, "\(run.stderr)")
            let connected = try #require(run.stdout.first { $0.hasPrefix("client connected to ") })
            let clientPort = try #require(connected.split(separator: ":").last.flatMap { Int($0) })
            clients.append((clientPort, Self.spans(run.stderr, label: "client")))
        }
        // Wait (bounded) for the 20 teardowns on the wire and the server's 20 close() lines.
        var ended = 0
        _ = try watcher.waitForLine(timeout: 60) { line in
            if line.contains(#""type":"connection""#) { ended += 1 }
            return ended == 20
        }
        var closes = 0
        _ = try server.waitForLine(onStderr: true, timeout: 60) { line in
            if line.contains(" close(fd ") { closes += 1 }
            return closes == 20
        }
        let packets = LiveCaptureTests.objects(watcher.stdout).filter { $0["type"] as? String == "packet" }
        let serverSpans = Self.spans(server.stderr, label: "server")

        for client in clients {
            try check(client: client.port, clientSpans: client.spans, serverSpans: serverSpans, packets: packets)
        }
    }

    private func check(client: Int, clientSpans: [Span], serverSpans: [Span], packets: [[String: Any]]) throws {
        func time(_ packet: [String: Any]) throws -> EpochTime {
            let number = try #require(packet["time"] as? NSNumber)
            return try #require(EpochTime(parsing: Substring(number.description)))
        }
        let own = packets.filter { $0["sport"] as? Int == client || $0["dport"] as? Int == client }
        func first(_ step: String, from sender: Int? = nil) throws -> EpochTime {
            let packet = try #require(own.first { $0["step"] as? String == step && (sender == nil || $0["sport"] as? Int == sender) },
                                      "connection from port \(client): no \(step)")
            return try time(packet)
        }
        let flags = { (packet: [String: Any]) in packet["flags"] as? [String] ?? [] }
        let syn = try first("handshake-syn"), ack = try first("handshake-ack")
        let clientFin = try time(try #require(own.first { flags($0).contains("FIN") && $0["sport"] as? Int == client }))
        let serverFin = try time(try #require(own.first { flags($0).contains("FIN") && $0["dport"] as? Int == client }))
        let context = "connection from port \(client)"

        let connect = try #require(clientSpans.first { $0.text.hasPrefix("connect(") })
        let shutdown = try #require(clientSpans.first { $0.text.hasPrefix("shutdown(") })
        let clientEnd = try #require(clientSpans.first { $0.text.hasPrefix("recv(") && $0.text.contains("-> 0 (peer closed)") })
        #expect(connect.start <= syn, "connect() starts before the SYN: \(context)")
        #expect(connect.end.microseconds + 1 >= ack.microseconds, "connect() returns after the ACK: \(context)")
        #expect(shutdown.start <= clientFin, "shutdown() starts before its FIN: \(context)")
        #expect(clientEnd.end.microseconds + 1 >= serverFin.microseconds, "the client's recv() -> 0 returns after the server's FIN: \(context)")

        // The server's calls for this connection: accept() of this port, then its descriptor's
        // recv() -> 0 and close(), the first of each after that accept (iterative: one at a time).
        let acceptIndex = try #require(serverSpans.firstIndex { $0.text.hasPrefix("accept(") && $0.text.hasSuffix(":\(client)") }, "\(context)")
        let accept = serverSpans[acceptIndex]
        let fd = try #require(accept.text.split(separator: " ").drop { $0 != "->" }.dropFirst(2).first, "\(context)")
        let after = serverSpans[(acceptIndex + 1)...]
        let serverEnd = try #require(after.first { $0.text.hasPrefix("recv(fd \(fd),") && $0.text.contains("-> 0 (peer closed)") }, "\(context)")
        let close = try #require(after.first { $0.text.hasPrefix("close(fd \(fd))") }, "\(context)")
        #expect(accept.end.microseconds + 1 >= ack.microseconds, "accept() returns after the ACK: \(context)")
        #expect(close.start <= serverFin, "close() starts before its FIN: \(context)")
        #expect(serverEnd.end.microseconds + 1 >= clientFin.microseconds, "the server's recv() -> 0 returns after the client's FIN: \(context)")
    }
}
