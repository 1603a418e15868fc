import Foundation
import Glibc
import SocketCore
import Synchronization
import Testing
import TestSupport

/// `handshake-watch --kernel` held to issue 18: every signal that ends a process by default
/// removes the tracefs instance first, a burst of 1,000 connections is shown whole, and the
/// capture filter means the same for a kernel event as for the packets of its connection.
/// Root only (tracefs); serialised, as every Live suite.
@Suite("KernelHardeningLive", .live, .serialized, .enabled(if: Privileges.isRoot, "tracefs needs root"))
struct KernelHardeningLiveTests {
    /// The exit status after each signal: 0 where tcpdump ends cleanly, 128 + N for the others.
    static let endingSignals: [(Int32, Int32)] = [
        (SIGHUP, 0), (SIGPIPE, 0), (SIGQUIT, 128 + SIGQUIT), (SIGUSR1, 128 + SIGUSR1), (SIGUSR2, 128 + SIGUSR2),
        (SIGALRM, 128 + SIGALRM), (SIGVTALRM, 128 + SIGVTALRM), (SIGXCPU, 128 + SIGXCPU), (SIGXFSZ, 128 + SIGXFSZ),
    ]

    @Test("every signal that ends a process by default removes the instance first (SIGQUIT does not hang)",
          arguments: endingSignals.map(\.0))
    func signalRemovesInstance(signal: Int32) throws {
        let port = try KernelLiveTests.freePort()
        let watcher = try KernelLiveTests.watch(port: port)
        #expect(KernelLiveTests.instanceExists(pid: watcher.pid))
        watcher.signal(signal)
        let status = try watcher.waitForExit(timeout: 30)
        let expected = Self.endingSignals.first { $0.0 == signal }?.1
        #expect(status == expected, "signal \(signal): status \(status), stderr \(watcher.stderr)")
        #expect(!KernelLiveTests.instanceExists(pid: watcher.pid), "signal \(signal)")
        #expect(watcher.stderr.contains { $0.hasSuffix("packets captured") } || signal == SIGHUP || signal == SIGPIPE
                || status != 0, "the run ended through its summary")
    }

    @Test("| head -1: EPIPE on stdout ends the run with status 0 and the instance removed")
    func brokenPipeEndsTheRun() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 64)
        defer { try? listener.close() }
        let port = Int(try #require(listener.localAddress?.port))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ToolProcess.path(of: "handshake-watch"))
        process.arguments = ["--kernel", "port", "\(port)"]
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let pid = process.processIdentifier
        try waitUntil("the watcher made its tracefs instance", timeout: 30) { KernelLiveTests.instanceExists(pid: pid) }
        // What `head -1` does: read up to the first line, then close the pipe.
        var first: [UInt8] = []
        let reader = stdout.fileHandleForReading
        var connections: [Socket] = []
        try waitUntil("the watcher's first line", timeout: 60) {
            if connections.count < 200, let socket = try? Socket.connected(host: "127.0.0.1", port: port) {
                connections.append(socket)
            }
            var ready = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 100) == 1 { first += reader.availableData }   // readable: does not block
            return first.contains(0x0A)
        }
        try reader.close()
        try waitUntil("the watcher ends on EPIPE", timeout: 60) {
            if let socket = try? Socket.connected(host: "127.0.0.1", port: port) { connections.append(socket) }
            return !process.isRunning
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                "status \(process.terminationStatus), reason \(process.terminationReason.rawValue)")
        #expect(!KernelLiveTests.instanceExists(pid: pid))
        let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(errors.contains("packets captured"), "the summary, as tcpdump's: \(errors)")
        for socket in connections { try? socket.close() }
    }

    /// Not under ThreadSanitizer: its `_exit` interceptor calls fflush(stdout) (OnExit →
    /// FlushStreams in tsan_interceptors_posix.cpp), which waits for the stdout lock the blocked
    /// write holds, the lock Console.exit takes care never to wait for (as EchoModeTests' test of
    /// the same case).
    @Test("a signal while the output is blocked (a pipe nobody reads): the instance is removed within the grace period",
          .disabled(if: Sanitizer.name == "thread", "ThreadSanitizer's _exit flushes stdout, taking the lock the blocked write holds"))
    func signalWhileOutputBlocked() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 4096)
        defer { try? listener.close() }
        let port = Int(try #require(listener.localAddress?.port))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ToolProcess.path(of: "handshake-watch"))
        process.arguments = ["--kernel", "port", "\(port)"]
        let stdout = Pipe()   // never read: 64 KiB of lines fill it and the next write(2) blocks
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let pid = process.processIdentifier
        try waitUntil("the watcher made its tracefs instance", timeout: 30) { KernelLiveTests.instanceExists(pid: pid) }
        try Self.burst(listener, port: port, count: 300)   // about 400 KB of text
        // Blocked in write(2) to the full pipe: its state is S, in pipe_write.
        try waitUntil("the watcher blocked on its output", timeout: 60) {
            (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8))?.contains("pipe_write") == true
        }
        kill(pid, SIGTERM)
        try waitUntil("the watcher left", timeout: 60) { !process.isRunning }
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "status \(process.terminationStatus)")
        #expect(!KernelLiveTests.instanceExists(pid: pid))
        try? stdout.fileHandleForReading.close()
    }

    /// Opens and closes `count` connections to `port` as fast as it can; a thread accepts and closes.
    static func burst(_ listener: Socket, port: Int, count: Int) throws {
        let accepted = Shared()
        try Threads.detach {
            while accepted.count.load(ordering: .relaxed) < count {
                guard let (socket, _) = try? listener.accept() else { return }
                try? socket.close()
                accepted.count.add(1, ordering: .relaxed)
            }
        }
        for _ in 0..<count { try Socket.connected(host: "127.0.0.1", port: port).close() }
        try waitUntil("every connection accepted", timeout: 120) { accepted.count.load(ordering: .relaxed) >= count }
    }

    final class Shared: Sendable { let count = Atomic<Int>(0) }

    @Test("a burst of 1,000 connections: every SYN, every connection's states, the packet count right")
    func burstIsComplete() throws {
        let count = 1000
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 4096)
        defer { try? listener.close() }
        let port = Int(try #require(listener.localAddress?.port))
        let watcher = try KernelLiveTests.watch(port: port)
        defer { watcher.stop() }
        try Self.burst(listener, port: port, count: count)
        try waitUntil("every connection's summary", timeout: 300) {
            watcher.stdout.filter { $0.contains(#""type":"connection""#) }.count >= count || !watcher.isRunning
        }
        watcher.signal(SIGINT)
        #expect(try watcher.waitForExit() == 0)
        let lines = watcher.stdout
        let packets = KernelLiveTests.objects(lines, type: "packet")
        let syns = packets.filter { $0["flags"] as? [String] == ["SYN"] && $0["dport"] as? Int == port }
        #expect(syns.count == count, "SYNs: \(syns.count) of \(count)")
        let connections = KernelLiveTests.objects(lines, type: "connection")
        #expect(connections.count == count)
        // Every packet printed belongs to a connection summarised, and the summaries count no packet
        // that was not printed. (A segment after the teardown, such as a late RST, is printed with
        // its connection's number after the summary, which counted up to the teardown.)
        let counted = connections.reduce(0) { $0 + ($1["packets"] as? Int ?? 0) }
        let summarised = Set(connections.compactMap { $0["conn"] as? Int })
        #expect(counted <= packets.count, "the summaries count \(counted) packets, \(packets.count) were printed")
        #expect(packets.allSatisfy { ($0["conn"] as? Int).map(summarised.contains) ?? false })
        let stats = try #require(KernelLiveTests.objects(lines, type: "stats").first)
        #expect(stats["dropped"] as? Int == 0)
        let incomplete = connections.filter { connection in
            let client = connection["client_states"] as? [String] ?? []
            let server = connection["server_states"] as? [String] ?? []
            // Either end may close first (the acceptor closes at once, the client too).
            let closes = { (states: [String]) in states.contains("FIN_WAIT1") || states.contains("CLOSE_WAIT") }
            return !(client.starts(with: ["CLOSE", "SYN_SENT", "ESTABLISHED"]) && closes(client)
                     && server.starts(with: ["SYN_RECV", "ESTABLISHED"]) && closes(server))
        }
        #expect(incomplete.isEmpty, "\(incomplete.count) connections without their states, first: \(incomplete.first ?? [:])")
        // No kernel line of a connection whose packets were not printed.
        let printed = Set(connections.map { "\($0["client"] as? String ?? "") \($0["server"] as? String ?? "")" })
        let states = KernelLiveTests.objects(lines, type: "state").filter { ($0["lport"] as? Int == port) != ($0["rport"] as? Int == port) }
        let strays = states.filter { state in
            let (local, remote) = ("\(state["local"] as? String ?? ""):\(state["lport"] as? Int ?? 0)",
                                   "\(state["remote"] as? String ?? ""):\(state["rport"] as? Int ?? 0)")
            return !printed.contains("\(local) \(remote)") && !printed.contains("\(remote) \(local)")
        }
        #expect(strays.isEmpty, "\(strays.count) kernel lines of connections not printed: \(strays.prefix(3))")
    }

    @Test("Ctrl-C right after a burst of 2,000: no kernel line of a connection whose packets were not printed")
    func stopMidBurstShowsNoStrayKernelLines() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 4096)
        defer { try? listener.close() }
        let port = Int(try #require(listener.localAddress?.port))
        let watcher = try KernelLiveTests.watch(port: port)
        defer { watcher.stop() }
        try Self.burst(listener, port: port, count: 2000)
        watcher.signal(SIGINT)   // the capture may still hold packets of the burst: they are not read
        let status = try watcher.waitForExit()
        #expect(status == 0, "stderr: \(watcher.stderr.suffix(5))")
        let lines = watcher.stdout
        let printed = Set(KernelLiveTests.objects(lines, type: "packet").flatMap { packet -> [String] in
            let (source, destination) = ("\(packet["src"] as? String ?? ""):\(packet["sport"] as? Int ?? 0)",
                                         "\(packet["dst"] as? String ?? ""):\(packet["dport"] as? Int ?? 0)")
            return ["\(source) \(destination)", "\(destination) \(source)"]
        })
        let connectionStates = KernelLiveTests.objects(lines, type: "state").filter {
            ($0["lport"] as? Int == port) != ($0["rport"] as? Int == port)   // not the listener's own
        }
        let strays = connectionStates.filter { state in
            let local = "\(state["local"] as? String ?? ""):\(state["lport"] as? Int ?? 0)"
            let remote = "\(state["remote"] as? String ?? ""):\(state["rport"] as? Int ?? 0)"
            return !printed.contains("\(local) \(remote)")
        }
        #expect(strays.isEmpty, "\(strays.count) of \(connectionStates.count) kernel lines without a packet: \(strays.prefix(3))")
    }

    /// One echo round trip watched with `filter`; returns the watcher's JSON lines and the client's port.
    static func roundTrip(filter: [String], shows: Bool = true) throws -> (lines: [String], serverPort: Int, clientPort: Int?) {
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "server start, listening")
        let arguments = ["--kernel", "--format", "json"] + filter.map { $0.replacingOccurrences(of: "PORT", with: "\(port)") }
        let watcher = try ToolProcess("handshake-watch", arguments)
        defer { watcher.stop() }
        _ = try watcher.waitForLine(containing: "listening on lo", onStderr: true)
        let client = try runCommand("echo-client", ["--port", "\(port)", "Hello"])
        #expect(client.status == 0)
        // The client's end reaches TIME_WAIT (looked up by 4-tuple) once the connection is over.
        // A filter that hides the connection gives nothing to wait for: a few seconds then.
        _ = try? watcher.waitForLine(containing: #""to":"TIME_WAIT""#, timeout: shows ? 30 : 3)
        watcher.signal(SIGINT)
        _ = try watcher.waitForExit()
        let clientPort = client.stdout.first { $0.contains("from 127.0.0.1:") }?.split(separator: ":").last.flatMap { Int($0) }
        return (watcher.stdout, port, clientPort)
    }

    static func stateLines(_ lines: [String], lport: Int?) -> [String] {
        KernelLiveTests.objects(lines, type: "state").filter { $0["lport"] as? Int == lport }
            .map { "\($0["from"] as? String ?? "") \($0["to"] as? String ?? "")" }
    }

    @Test("filters: src port, dst port, host and tcp flags show both ends' states, TIME_WAIT included",
          arguments: [["src", "port", "PORT"], ["dst", "port", "PORT"], ["host", "127.0.0.1", "and", "port", "PORT"],
                      ["tcp[13]", "&", "2", "!=", "0", "and", "port", "PORT"]])
    func filterShowsBothEnds(filter: [String]) throws {
        let (lines, port, clientPort) = try Self.roundTrip(filter: filter)
        let client = try #require(clientPort, "echo-client names its port")
        let clientStates = Self.stateLines(lines, lport: client)
        let serverStates = Self.stateLines(lines, lport: port)
        #expect(clientStates.starts(with: ["CLOSE SYN_SENT", "SYN_SENT ESTABLISHED"]), "\(filter): \(clientStates)")
        #expect(clientStates.contains("FIN_WAIT2 TIME_WAIT"), "\(filter): \(clientStates)")
        #expect(serverStates.contains("LISTEN SYN_RECV") && serverStates.contains("LAST_ACK CLOSE"), "\(filter): \(serverStates)")
    }

    @Test("filters: a filter no packet of the connection passes shows none of its kernel events")
    func filterHidesOthers() throws {
        for filter in [["port", "PORT", "and", "host", "127.0.0.2"], ["port", "PORT", "and", "tcp[13]", "&", "6", "==", "6"]] {
            let (lines, _, clientPort) = try Self.roundTrip(filter: filter, shows: false)
            #expect(KernelLiveTests.objects(lines, type: "packet").isEmpty, "\(filter)")
            #expect(KernelLiveTests.objects(lines, type: "state").isEmpty, "\(filter): \(lines.prefix(5))")
            #expect(clientPort != nil)
        }
    }
}
