import Foundation
import Testing
import TestSupport

/// lab-link for real, as root: two namespaces, TUN devices, packets through the link. Each test
/// uses its own `--prefix`, so tests never meet each other nor a teacher's `st` lab.
///
/// Durations are asserted only where the link itself guarantees them: a 50 ms delay each way
/// means connect() cannot finish in under 100 ms (its SYN and SYN-ACK both cross), and a
/// dropped SYN-ACK means it waits for the client's SYN retransmission, 1 s later. Upper bounds
/// are generous (a busy machine adds scheduling delay, never removes any); the precise figures
/// are measured in bench/link.
@Suite(.live, .serialized) struct LabLinkLiveTests {
    static let skipReason = "lab-link needs root (network namespaces, TUN devices)"

    /// A prefix of our own: `l` and 6 random hex digits.
    private func uniquePrefix() -> String {
        "l" + String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)
    }

    private func namespaceExists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/run/netns/" + name)
    }

    /// Starts lab-link and waits for its readiness line.
    private func startLink(_ prefix: String, _ arguments: [String]) throws -> ToolProcess {
        let link = try ToolProcess("lab-link", ["--prefix", prefix] + arguments)
        _ = try link.waitForLine(containing: "link up: \(prefix)-client 10.77.0.1 <-> \(prefix)-server 10.77.0.2")
        return link
    }

    /// Runs `command` inside a namespace, as `ip netns exec NAME ...`.
    private func inNamespace(_ name: String, _ command: [String]) throws -> ToolProcess {
        try ToolProcess("/usr/bin/env", ["ip", "netns", "exec", name] + command)
    }

    /// Stops the link with SIGTERM and returns its stats lines; the namespaces must be gone.
    private func stopLink(_ link: ToolProcess, _ prefix: String) throws -> [String] {
        link.signal(SIGTERM)
        #expect(try link.waitForExit(timeout: 30) == 0)
        #expect(!namespaceExists(prefix + "-client") && !namespaceExists(prefix + "-server"))
        return link.stdout.filter { $0.hasPrefix("c→s:") || $0.hasPrefix("s→c:") }
    }

    /// connect()'s duration in seconds, from echo-client's `--trace` line `connect(...) -> 0 <0.100312>`.
    private func connectDuration(_ prefix: String, port: Int) throws -> Double {
        let client = try inNamespace(prefix + "-client", [ToolProcess.path(of: "echo-client"), "--trace",
                                                          "--host", "10.77.0.2", "--port", String(port), "hi"])
        #expect(try client.waitForExit(timeout: 60) == 0)
        let line = try #require(client.stderr.first { $0.contains(" connect(fd ") })
        let span = try #require(line.split(separator: "<").last?.dropLast())
        return try #require(Double(span))
    }

    private func startEchoServer(_ prefix: String) throws -> (ToolProcess, Int) {
        let server = try inNamespace(prefix + "-server", [ToolProcess.path(of: "echo-server"), "--host", "10.77.0.2",
                                                          "--port", "0", "--backlog", "16"])
        return (server, try server.waitForPort(containing: "server start, listening"))
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func aFiftyMillisecondDelayMakesConnectTakeOneRoundTrip() throws {
        let prefix = uniquePrefix()
        let link = try startLink(prefix, ["--delay", "50ms"])
        defer { link.stop() }
        let (server, port) = try startEchoServer(prefix)
        defer { server.stop() }
        var samples: [Double] = []
        for _ in 0..<7 { samples.append(try connectDuration(prefix, port: port)) }
        samples.sort()
        // The SYN and the SYN-ACK each wait 50 ms: never less than 100 ms.
        #expect(samples[0] >= 0.100, "fastest connect() \(samples[0]) s")
        #expect(samples[3] < 0.150, "median connect() \(samples[3]) s")
        let stats = try stopLink(link, prefix)
        #expect(stats.count == 2)
        #expect(stats.allSatisfy { $0.contains("dropped 0 (rule 0, loss 0, queue 0)") })
    }

    /// Sends 2000 numbered UDP datagrams client to server through `--loss 10% --seed 42`; returns
    /// the numbers that did not arrive and the link's count of packets lost at random.
    private func lossRun() throws -> (missing: [Int], linkLost: Int) {
        let prefix = uniquePrefix()
        let link = try startLink(prefix, ["--loss", "10%", "--seed", "42"])
        defer { link.stop() }
        let receiver = try inNamespace(prefix + "-server", ["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE: nothing lost in the socket
            s.bind(("10.77.0.2", 9999))
            print("ready", flush=True)
            got = set()
            s.settimeout(20)
            while True:
                try:
                    data = s.recv(100)
                except socket.timeout:
                    break
                if data == b"end":
                    break
                got.add(int(data))
                s.settimeout(3)
            print("missing " + ",".join(str(i) for i in range(2000) if i not in got), flush=True)
            """])
        defer { receiver.stop() }
        _ = try receiver.waitForLine(containing: "ready")
        let sender = try inNamespace(prefix + "-client", ["python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(2000):
                s.sendto(b"%d" % i, ("10.77.0.2", 9999))
                time.sleep(0.0002)   # below the TUN device's queue of 500: only the link loses
            """])
        #expect(try sender.waitForExit(timeout: 60) == 0)
        let line = try receiver.waitForLine(containing: "missing", timeout: 60)
        let missing = line.dropFirst("missing ".count).split(separator: ",").compactMap { Int($0) }
        let stats = try stopLink(link, prefix)
        let toServer = try #require(stats.first { $0.hasPrefix("c→s:") })
        let lost = try #require(toServer.firstMatch(of: /loss (\d+)/).flatMap { Int($0.output.1) })
        return (missing, lost)
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func aSeededLossLosesTheSameDatagramsEveryRun() throws {
        let first = try lossRun()
        #expect((140...260).contains(first.missing.count), "lost \(first.missing.count) of 2000")
        #expect(first.missing.count == first.linkLost)   // every datagram missing was lost by the link
        let second = try lossRun()
        #expect(second.missing == first.missing)
    }

    /// Sends `count` numbered UDP datagrams client to server through a link with `arguments`;
    /// returns the numbers in the order they arrived (duplicates included).
    private func arrivalOrder(_ arguments: [String], count: Int) throws -> [Int] {
        let prefix = uniquePrefix()
        let link = try startLink(prefix, arguments)
        defer { link.stop() }
        let receiver = try inNamespace(prefix + "-server", ["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
            s.bind(("10.77.0.2", 9997))
            print("ready", flush=True)
            got = []
            s.settimeout(20)
            while True:
                try:
                    data = s.recv(100)
                except socket.timeout:
                    break
                got.append(data.decode())
                s.settimeout(2)
            print("order " + ",".join(got), flush=True)
            """])
        defer { receiver.stop() }
        _ = try receiver.waitForLine(containing: "ready")
        let sender = try inNamespace(prefix + "-client", ["python3", "-c", """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(\(count)):
                s.sendto(b"%d" % i, ("10.77.0.2", 9997))
                time.sleep(0.0005)
            """])
        #expect(try sender.waitForExit(timeout: 60) == 0)
        let line = try receiver.waitForLine(containing: "order", timeout: 60)
        _ = try stopLink(link, prefix)
        return line.dropFirst("order ".count).split(separator: ",").compactMap { Int($0) }
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func jitterNeverReordersButReorderDoes() throws {
        // 2 ms to 18 ms each, sent every 0.5 ms: without the rule, later ones would often overtake.
        let kept = try arrivalOrder(["--delay", "10ms", "--jitter", "8ms"], count: 300)
        #expect(kept == Array(0..<300))
        let reordered = try arrivalOrder(["--delay", "10ms", "--reorder", "30%", "--seed", "5"], count: 300)
        #expect(reordered.sorted() == Array(0..<300))
        #expect(reordered != Array(0..<300))
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func duplicateSendsEveryDatagramTwice() throws {
        let arrived = try arrivalOrder(["--duplicate", "100%"], count: 100)
        #expect(arrived == (0..<100).flatMap { [$0, $0] })
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func aTenMegabitLinkCarriesTCPAtTenMegabits() throws {
        let prefix = uniquePrefix()
        let link = try startLink(prefix, ["--rate", "10mbit"])
        defer { link.stop() }
        let receiver = try inNamespace(prefix + "-server", ["python3", "-c", """
            import socket, time
            s = socket.socket()
            s.bind(("10.77.0.2", 9998))
            s.listen(1)
            print("ready", flush=True)
            c, _ = s.accept()
            total, first, last = 0, None, None
            while True:
                data = c.recv(65536)
                if not data:
                    break
                now = time.monotonic()
                first = first or now
                total, last = total + len(data), now
            print("mbit %.3f" % (total * 8 / (last - first) / 1e6), flush=True)
            """])
        defer { receiver.stop() }
        _ = try receiver.waitForLine(containing: "ready")
        let sender = try inNamespace(prefix + "-client", ["python3", "-c", """
            import socket
            s = socket.create_connection(("10.77.0.2", 9998))
            s.sendall(b"x" * 3_000_000)
            s.close()
            """])
        #expect(try sender.waitForExit(timeout: 60) == 0)
        let line = try receiver.waitForLine(containing: "mbit", timeout: 60)
        let rate = try #require(Double(line.dropFirst(5)))
        // 10 Mbit/s of IP packets is 9.65 Mbit/s of TCP payload (1448 of each 1500 bytes).
        #expect(rate >= 8.5 && rate <= 10.2, "TCP payload at \(rate) Mbit/s")
        _ = try stopLink(link, prefix)
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func droppingTheFirstSynAckCostsConnectOneRetransmission() throws {
        let prefix = uniquePrefix()
        let link = try startLink(prefix, ["--drop", "tcp[13] == 0x12"])
        defer { link.stop() }
        let (server, port) = try startEchoServer(prefix)
        defer { server.stop() }
        let duration = try connectDuration(prefix, port: port)
        // The client's SYN is retransmitted after its 1 s initial RTO; the second SYN-ACK passes.
        #expect(duration >= 0.9, "connect() took \(duration) s")
        let drop = try link.waitForLine(containing: " ✗ s→c lost (rule) ")
        #expect(drop.contains("10.77.0.2:\(port) → 10.77.0.1:") && drop.contains("[SYN,ACK]"))
        let stats = try stopLink(link, prefix)
        #expect(stats.contains { $0.hasPrefix("s→c:") && $0.contains("dropped 1 (rule 1, loss 0, queue 0)") })
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func jsonLinesCarryTheDropEvent() throws {
        let prefix = uniquePrefix()
        let link = try ToolProcess("lab-link", ["--prefix", prefix, "--format", "json", "--drop", "tcp[13] == 0x12"])
        defer { link.stop() }
        _ = try link.waitForLine(containing: "link up: ", onStderr: true)
        let (server, port) = try startEchoServer(prefix)
        defer { server.stop() }
        _ = try connectDuration(prefix, port: port)
        let line = try link.waitForLine(containing: "\"type\":\"link-drop\"")
        #expect(line.contains("\"dir\":\"s→c\",\"reason\":\"rule\",\"src\":\"10.77.0.2\",\"sport\":\(port)"))
        #expect(line.contains("\"flags\":[\"SYN\",\"ACK\"]"))
        link.signal(SIGTERM)
        #expect(try link.waitForExit(timeout: 30) == 0)
        #expect(link.stdout.filter { $0.contains("\"type\":\"link-stats\"") }.count == 2)
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func sigtermAndSigkillThenRestartLeaveNoNamespace() throws {
        let prefix = uniquePrefix()
        let first = try startLink(prefix, [])
        _ = try stopLink(first, prefix)

        let killed = try startLink(prefix, [])
        killed.signal(SIGKILL)
        _ = try? killed.waitForExit(timeout: 30)
        #expect(namespaceExists(prefix + "-client") && namespaceExists(prefix + "-server"))   // left behind
        let again = try startLink(prefix, [])
        #expect(again.stderr.contains("lab-link: removed \(prefix)-client, left behind by lab-link pid \(killed.pid)"))
        _ = try stopLink(again, prefix)
    }

    /// lab-link claims a name before `ip netns add` runs (inode 0 in the claim): killed between
    /// the two, the namespace it was making is still its own at the next start. Here the claim of
    /// a dead run is written by hand, as that run would have left it.
    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func aNameClaimedBeforeItsCreationIsRemovedAtTheNextStart() throws {
        let prefix = uniquePrefix()
        let dead = try runCommand("/usr/bin/env", ["sh", "-c", "echo $$"])   // a pid no lab-link has now
        let pid = try #require(dead.stdout.first)
        #expect(try runCommand("/usr/bin/env", ["ip", "netns", "add", prefix + "-client"]).status == 0)
        try FileManager.default.createDirectory(atPath: "/run/sockettutor/lab-link", withIntermediateDirectories: true)
        try "pid \(pid)\n\(prefix)-client 0\n".write(toFile: "/run/sockettutor/lab-link/\(prefix).claim", atomically: true, encoding: .utf8)
        let link = try startLink(prefix, [])
        #expect(link.stderr.contains("lab-link: removed \(prefix)-client, left behind by lab-link pid \(pid)"), "\(link.stderr)")
        _ = try stopLink(link, prefix)
        #expect(!FileManager.default.fileExists(atPath: "/run/sockettutor/lab-link/\(prefix).claim"))
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func aNamespaceThatIsNotOursIsNeverTouched() throws {
        let prefix = uniquePrefix()
        #expect(try runCommand("/usr/bin/env", ["ip", "netns", "add", prefix + "-server"]).status == 0)
        defer { _ = try? runCommand("/usr/bin/env", ["ip", "netns", "del", prefix + "-server"]) }
        let result = try runCommand("lab-link", ["--prefix", prefix])
        #expect(result.status == 1)
        #expect(result.stderr == ["lab-link: a network namespace named \(prefix)-server exists and is not lab-link's: left alone (remove it with `ip netns del \(prefix)-server` if it is yours, or pick another --prefix)"])
        #expect(namespaceExists(prefix + "-server") && !namespaceExists(prefix + "-client"))
    }

    @Test(.enabled(if: Privileges.isRoot, "\(skipReason)"))
    func withoutRootItSaysSoInOneLine() throws {
        let tool = try Privileges.toolForNobody("lab-link")
        defer { tool.remove() }
        let result = try runCommand(tool.path, ["--delay", "50ms"], prefix: Privileges.asNobody)
        #expect(result.status == 1)
        #expect(result.stderr == ["lab-link: needs root: it creates network namespaces and TUN devices (run it with sudo)"])
        #expect(result.stdout.isEmpty)
    }

    @Test func badFlagsAreOneLineErrors() throws {
        let result = try runCommand("lab-link", ["--delay", "50"])
        #expect(result.status != 0)
        #expect(result.stderr.first?.contains("'50' is not a time") == true)
    }
}
