import Foundation
import Glibc
import SocketCore
import Testing
import TestSupport

/// Live capture on lo, beside real servers and clients. Needs root or CAP_NET_RAW; runs alone
/// (`swift test --filter Live --no-parallel`) because it watches the shared loopback interface.
@Suite("LiveCapture", .live, .serialized, .enabled(if: Privileges.canCapture, "live capture needs root or CAP_NET_RAW"))
struct LiveCaptureTests {
    /// Starts handshake-watch on lo for `port` and waits for its readiness line.
    static func watch(port: Int, _ extra: [String] = []) throws -> ToolProcess {
        let watcher = try ToolProcess("handshake-watch", ["-i", "lo", "--format", "json"] + extra + ["port", "\(port)"])
        let ready = try watcher.waitForLine(containing: "listening on lo", onStderr: true)
        #expect(ready == "listening on lo, link-type EN10MB (Ethernet), snapshot length 256 bytes")
        return watcher
    }

    /// Parses the JSON lines a watcher printed.
    static func objects(_ lines: [String]) -> [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    static func steps(_ lines: [String]) -> [String] {
        objects(lines).filter { $0["type"] as? String == "packet" }.compactMap { $0["step"] as? String }
    }

    @Test("echo-server and echo-client: the handshake, the data and the teardown, in order; -w keeps them")
    func echoConversation() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let directory = try TemporaryDirectory()
        let saved = directory.url.appendingPathComponent("live.pcap").path
        let watcher = try Self.watch(port: port, ["-w", saved])
        let client = try runCommand("echo-client", ["--port", "\(port)", "Hello"])
        #expect(client.status == 0)
        _ = try watcher.waitForLine(containing: #""type":"connection""#)
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit() == 0)
        let steps = Self.steps(watcher.stdout)
        #expect(Array(steps.prefix(3)) == ["handshake-syn", "handshake-syn-ack", "handshake-ack"], "\(steps)")
        #expect(Array(steps.suffix(3)) == ["fin-active", "fin-passive", "teardown-ack"], "\(steps)")
        #expect(steps.filter { $0 == "data" }.count == 2, "Hello and its echo: \(steps)")
        #expect(try TsharkRow.read(saved).count == steps.count, "-w wrote every packet shown")
        let objects = Self.objects(watcher.stdout)
        let connection = try #require(objects.first { $0["type"] as? String == "connection" })
        #expect(connection["bytes_to_server"] as? Int == 5 && connection["bytes_to_client"] as? Int == 5)
        #expect(connection["outcome"] as? String == "closed" && connection["closed_by"] as? String == "client")
        let stats = try #require(objects.last { $0["type"] as? String == "stats" })
        #expect(stats["dropped"] as? Int == 0)
        #expect((stats["received"] as? Int ?? 0) >= 10)
    }

    @Test("a refused connection shows SYN then RST")
    func refused() throws {
        // A port that was just free: bind, read it, close. Nothing listens there now.
        let probe = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        let port = try #require(probe.localAddress?.port)
        try probe.close()
        let watcher = try Self.watch(port: port)
        let client = try runCommand("echo-client", ["--port", "\(port)", "Hello"])
        #expect(client.status == 1)
        #expect(client.stderr.joined().contains("ECONNREFUSED"))
        _ = try watcher.waitForLine(containing: #""type":"connection""#)
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
        #expect(Self.steps(watcher.stdout) == ["handshake-syn", "rst"])
        #expect(watcher.stdout.contains { $0.contains(#""outcome":"refused""#) })
    }

    @Test("2,000 connections opened and closed as fast as possible: every one reported, 0 dropped")
    func burst() throws {
        let total = 2_000
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1_024)
        let port = try #require(listener.localAddress?.port)
        let watcher = try Self.watch(port: port)
        // The server: accept and close, on a real thread (accept() blocks).
        let accepted = Locked(0)
        let done = DispatchSemaphore(value: 0)
        try Threads.detach {
            for _ in 0..<total {
                guard let connection = try? listener.accept() else { break }
                try? connection.socket.close()
                accepted.withLock { $0 += 1 }
            }
            done.signal()
        }
        let started = Date()
        for _ in 0..<total {
            let client = try Socket.connected(host: "127.0.0.1", port: port)
            try client.close()
        }
        #expect(done.wait(timeout: .now() + 60) == .success)
        let elapsed = Date().timeIntervalSince(started)
        try listener.close()
        // Every connection ends with its last ACK: wait for the 2,000th summary line (each line
        // is looked at once, so counting them in the matcher counts each summary once).
        var summaries = 0
        _ = try watcher.waitForLine(timeout: 120) { line in
            if line.contains(#""type":"connection""#) { summaries += 1 }
            return summaries == total
        }
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit(timeout: 30) == 0)
        let objects = Self.objects(watcher.stdout)
        let connections = objects.filter { $0["type"] as? String == "connection" }
        let syns = objects.filter { $0["step"] as? String == "handshake-syn" }
        #expect(accepted.value == total)
        #expect(syns.count == total, "every SYN seen")
        #expect(connections.count == total, "every connection reported")
        #expect(connections.filter { $0["outcome"] as? String == "closed" }.count == total)
        let stats = try #require(objects.last { $0["type"] as? String == "stats" })
        #expect(stats["dropped"] as? Int == 0)
        print("burst: \(total) connections in \(String(format: "%.2f", elapsed)) s (\(Int(Double(total) / elapsed))/s), dropped \(stats["dropped"] ?? "?")")
    }

    @Test("-c COUNT ends a live capture by itself, with the summaries and exit 0")
    func countLive() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let watcher = try Self.watch(port: port, ["-c", "3"])
        #expect(try runCommand("echo-client", ["--port", "\(port)", "Hello"]).status == 0)
        #expect(try watcher.waitForExit() == 0)
        #expect(Self.steps(watcher.stdout) == ["handshake-syn", "handshake-syn-ack", "handshake-ack"])
        #expect(watcher.stdout.contains { $0.contains(#""type":"stats""#) })
    }

    @Test("text output on SIGTERM: the lines, then tcpdump's counts on stderr")
    func textLive() throws {
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let watcher = try ToolProcess("handshake-watch", ["port", "\(port)"])
        _ = try watcher.waitForLine(containing: "listening on lo", onStderr: true)
        #expect(try runCommand("echo-client", ["--port", "\(port)", "Hello"]).status == 0)
        _ = try watcher.waitForLine(containing: "client in TIME_WAIT")
        watcher.signal(SIGTERM)
        #expect(try watcher.waitForExit() == 0)
        #expect(watcher.stdout.first?.contains("handshake 1/3") == true)
        #expect(watcher.stderr.contains("0 packets dropped by kernel"), "\(watcher.stderr)")
    }

    @Test("not permitted to capture: one line naming root or CAP_NET_RAW and -r, exit 1",
          .enabled(if: Privileges.isRoot, "dropping privileges needs root"))
    func notPermitted() throws {
        let watcher = try Privileges.toolForNobody("handshake-watch")
        defer { watcher.remove() }
        let run = try runCommand(watcher.path, ["-i", "lo"], prefix: Privileges.asNobody)
        #expect(run.status == 1)
        #expect(run.stderr.count == 1, "\(run.stderr)")
        let line = try #require(run.stderr.first)
        #expect(line.hasPrefix("handshake-watch: capturing on lo needs root or CAP_NET_RAW (sudo setcap cap_net_raw,cap_net_admin=eip "))
        #expect(line.contains("-r captures/"))
        // ... and reading a capture works without any privilege. A copy in /tmp, readable by all:
        // the checkout itself may sit below a folder only root may enter (mktemp -d makes 0700).
        let copy = FileManager.default.temporaryDirectory
            .appendingPathComponent("handshake-watch-nobody-\(getpid()).pcap").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path,
                                         toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: copy)
        let offline = try runCommand(watcher.path, ["-r", copy], prefix: Privileges.asNobody)
        #expect(offline.status == 0, "\(offline.stderr)")
        #expect(offline.stdout.count == 12)   // 10 packets, the TIME_WAIT note, the summary
    }

    /// An interface other than lo that is up (eth0 on most machines), if any.
    static var otherInterface: String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        return names.sorted().first { name in
            name != "lo" && (try? String(contentsOfFile: "/sys/class/net/\(name)/operstate", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == "up"
        }
    }

    @Test("nothing seen on a non-loopback interface: a hint that local traffic travels over lo",
          .enabled(if: otherInterface != nil, "no interface other than lo is up"))
    func idleHint() throws {
        let interface = try #require(Self.otherInterface)
        let watcher = try ToolProcess("handshake-watch", ["-i", interface, "port", "1"])
        _ = try watcher.waitForLine(containing: "listening on \(interface)", onStderr: true)
        let hint = try watcher.waitForLine(containing: "nothing seen", onStderr: true, timeout: 15)
        #expect(hint.contains("travels over lo: try -i lo"))
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit() == 0)
    }

    @Test("an unknown interface: one line, exit 1")
    func unknownInterface() throws {
        let run = try runCommand("handshake-watch", ["-i", "nosuchif0"])
        #expect(run.status == 1)
        #expect(run.stderr == ["handshake-watch: no such interface: nosuchif0 (see `ip link`; `lo` carries this machine's own traffic)"])
    }
}

