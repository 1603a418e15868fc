import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// The echo itself, in every mode: byte for byte, one client or several, and the lines printed.
@Suite("Echo modes")
struct EchoModeTests {
    @Test("echo-client gets 1 B, 10 KiB and 10 MiB back byte for byte", arguments: Mode.allCases, [1, 10 * 1024, 10 * 1024 * 1024])
    func byteExactThroughEchoClient(mode: Mode, size: Int) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let payload = try temporaryFile(bytes: size)
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--file", payload.path,
                                                    "--recv-size", "65536", "--quiet"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.first?.hasPrefix("client echoed \(size) bytes from 127.0.0.1:\(server.port) in ") == true)
        #expect(result.stdout.last == "closing connection to the server")
    }

    @Test("a raw socket client gets 10 KiB and 10 MiB back byte for byte", arguments: Mode.allCases)
    func byteExactThroughRawSocket(mode: Mode) throws {
        let server = try RunningServer.start(mode, ["--buffer-size", "65536"])
        defer { _ = try? server.stop() }
        for size in [10 * 1024, 10 * 1024 * 1024] {
            let payload = try temporaryFile(bytes: size, seed: 7).bytes
            let socket = try server.connect()
            // Send from another thread while this one reads: sending 10 MiB before reading would stall.
            let sender = DispatchGroup()
            let failure = Locked<Error?>(nil)
            sender.enter()
            Thread.detachNewThread {
                do {
                    try socket.sendAll(payload)
                    try socket.shutdownWrite()   // half-close: the server's recv() returns 0 after the last byte
                } catch { failure.set(error) }
                sender.leave()
            }
            let echoed = try socket.receive(exactly: size)
            #expect(try socket.recv(maxBytes: 16).isEmpty, "the server closes after echoing everything")
            sender.wait()
            try socket.close()
            #expect(failure.value == nil)
            #expect(echoed == payload)
        }
    }

    @Test("iterative serves a second client only after the first closes")
    func iterativeSerializesClients() throws {
        let server = try RunningServer.start(.iterative)
        defer { _ = try? server.stop() }
        let first = try server.connect()
        try first.sendAll(Array("first".utf8))
        #expect(try first.receive(exactly: 5) == Array("first".utf8))

        let second = try server.connect()   // connect() succeeds: the kernel completed the handshake
        try second.sendAll(Array("second".utf8))
        try second.setReceiveTimeout(seconds: 0.5)
        #expect(throws: SocketError.self, "no echo while the first client is served") {
            _ = try second.recv(maxBytes: 16)
        }
        try first.close()
        try second.setReceiveTimeout(seconds: 10)
        #expect(try second.receive(exactly: 6) == Array("second".utf8))
        try second.close()
    }

    @Test("threads, select and poll serve two clients at once", arguments: [Mode.threads, .select, .poll])
    func concurrentModesServeTwoAtOnce(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let first = try server.connect()
        let second = try server.connect()
        try first.sendAll(Array("one".utf8))
        try second.sendAll(Array("two".utf8))
        #expect(try second.receive(exactly: 3) == Array("two".utf8))   // while the first is still open
        #expect(try first.receive(exactly: 3) == Array("one".utf8))
        try second.sendAll(Array("again".utf8))
        #expect(try second.receive(exactly: 5) == Array("again".utf8))
        try first.close()
        try second.close()
    }

    @Test("per-connection lines name the peer; --quiet prints only the start line", arguments: Mode.allCases)
    func connectionLines(mode: Mode) throws {
        let server = try RunningServer.start(mode, quiet: false)
        let socket = try server.connect()
        let local = try #require(socket.localAddress)
        try socket.sendAll(Array("hello".utf8))
        _ = try socket.receive(exactly: 5)
        try socket.close()
        _ = try server.process.waitForLine(containing: "server Recv Over from \(local)")
        #expect(try server.stop() == 0)
        #expect(server.process.stdout == [
            "server start, listening 127.0.0.1:\(server.port)",
            "server Connected by \(local)",
            "server Recv Data: b'hello' from \(local)",
            "server Send Data: b'hello' to \(local)",
            "server Recv Over from \(local)",
        ])

        let quiet = try RunningServer.start(mode)
        _ = try quiet.echoOnce()
        #expect(try quiet.stop() == 0)
        #expect(quiet.process.stdout == ["server start, listening 127.0.0.1:\(quiet.port)"])
        #expect(quiet.process.stderr.isEmpty)
    }

    @Test("IPv6: the start line prints [::1]:port and echo-client --host ::1 gets its echo", arguments: [Mode.iterative, .poll])
    func ipv6(mode: Mode) throws {
        let process = try ToolProcess("echo-server", ["--host", "::1", "--port", "0", "--mode", mode.rawValue, "--quiet"])
        defer { process.stop() }
        let line = try process.waitForLine(containing: "server start, listening")
        let match = try #require(line.wholeMatch(of: /server start, listening \[::1\]:(\d+)/), "\(line)")
        let port = try #require(Int(match.1))
        let result = try runCommand("echo-client", ["--host", "::1", "--port", "\(port)", "six"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.first?.hasPrefix("client connected to [::1]:\(port) from [::1]:") == true)
        #expect(result.stdout.dropFirst().first == "client Received: b'six'")
    }

    @Test("SIGINT and SIGTERM close the listening socket and exit 0", arguments: Mode.allCases, [SIGINT, SIGTERM])
    func terminationSignals(mode: Mode, signal: Int32) throws {
        let server = try RunningServer.start(mode)
        _ = try server.echoOnce()
        let idle = try server.connect()   // a connection in progress does not hold the exit up
        server.process.signal(signal)
        #expect(try server.process.waitForExit(timeout: 120) == 0)
        #expect(server.process.stderr.isEmpty)
        #expect(throws: SocketError.self) { _ = try Socket.connected(host: "127.0.0.1", port: server.port) }
        try idle.close()
    }

    @Test("SIGTERM while a thread is stuck printing to a stdout nobody reads: exit 0, no hang")
    func terminationWithStdoutBlocked() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let output = FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
        defer { Glibc.close(ends[0]) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: ToolProcess.path(of: "echo-server"))
        server.arguments = ["--port", "0", "--mode", "poll", "--buffer-size", "16"]
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        try output.close()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        // Read the start line, then stop reading: the pipe (64 KiB) fills with data lines.
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(ends[0], &byte, 1) == 1 && byte != 0x0A { line.append(byte) }
        let port = try #require(Int(String(decoding: line, as: UTF8.self).split(separator: ":").last ?? ""))
        let client = try Socket.connected(host: "127.0.0.1", port: port)
        defer { try? client.close() }
        try client.setNonBlocking()
        let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
        try waitUntil("the server's stdout pipe is full") {
            _ = try? chunk.withUnsafeBytes { try client.send($0) }   // 16-byte reads: a line each
            var queued: Int32 = 0
            _ = ioctl(ends[0], UInt(FIONREAD), &queued)
            return queued >= 60 * 1024
        }
        try waitUntil("a server thread sleeps in the kernel's pipe_write (fwrite() holding stdout's lock)",
                      timeout: 120) {
            _ = try? chunk.withUnsafeBytes { try client.send($0) }   // keep the loop printing until it blocks
            return threadWaitChannels(pid: server.processIdentifier).contains { $0.contains("pipe_write") }
        }
        kill(server.processIdentifier, SIGTERM)
        try waitUntil("the server exits", timeout: 120) { !server.isRunning }
        #expect(server.terminationStatus == 0)
    }

    @Test("--accept-delay: connect() completes while the server still sleeps before accept()", arguments: Mode.allCases)
    func acceptDelay(mode: Mode) throws {
        // An hour's delay: nothing in this test can outlast it, so no timing decides the outcome.
        let server = try RunningServer.start(mode, ["--accept-delay", "3600"], quiet: false)
        defer { _ = try? server.stop() }
        let socket = try server.connect()   // the kernel completes the handshake without accept()
        defer { try? socket.close() }
        try socket.sendAll(Array("late".utf8))   // and queues the bytes for whoever accepts later
        var buffer = [UInt8](repeating: 0, count: 16)
        let echoed = try buffer.withUnsafeMutableBytes { try Syscall.recvIfReady(socket.descriptor, into: $0) }
        #expect(echoed == nil, "no echo: nobody has accepted the connection yet")
        #expect(!server.process.stdout.contains { $0.hasPrefix("server Connected by") })
    }

    @Test("--accept-delay: the echo comes once the delayed accept() has taken the connection", arguments: Mode.allCases)
    func acceptDelayThenEcho(mode: Mode) throws {
        let server = try RunningServer.start(mode, ["--accept-delay", "0.2"], quiet: false)
        defer { _ = try? server.stop() }
        let socket = try server.connect(timeout: 120)
        defer { try? socket.close() }
        try socket.sendAll(Array("late".utf8))
        #expect(try socket.receive(exactly: 4) == Array("late".utf8))
        _ = try server.process.waitForLine(containing: "server Recv Data: b'late'")
        let lines = server.process.stdout
        let connected = lines.firstIndex { $0.hasPrefix("server Connected by") }
        let received = lines.firstIndex { $0.hasPrefix("server Recv Data: b'late'") }
        #expect(connected != nil && received != nil && connected! < received!, "\(lines)")
    }
}

/// A value shared with a helper thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ value: Value) { lock.lock(); stored = value; lock.unlock() }
}
