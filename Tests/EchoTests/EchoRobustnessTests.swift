import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// Clients that misbehave never stop the server, and nothing leaks afterwards.
@Suite("Echo robustness")
struct EchoRobustnessTests {
    @Test("200 clients that reset mid-stream and 300 that send 100 KiB and close without reading",
          arguments: Mode.allCases)
    func survivesResetsAndNonReaders(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let idle = try server.idleCounts()

        let chunk = [UInt8](repeating: 0x41, count: 10 * 1024)
        for _ in 0..<200 {
            let socket = try server.connect()
            try socket.sendAll(chunk)
            try socket.setLinger(seconds: 0)   // close() now sends RST: the abortive close
            try socket.close()
        }
        let large = [UInt8](repeating: 0x42, count: 100 * 1024)
        for _ in 0..<300 {
            let socket = try server.connect()
            try socket.sendAll(large)
            try socket.close()   // unread echo in our receive buffer: the kernel sends RST, not FIN
        }

        #expect(try server.echoOnce() == "still alive")
        #expect(server.process.isRunning)
        try waitUntil("the server is back to its idle descriptors and threads", timeout: 120) {
            let now = resourceCounts(pid: server.process.pid)
            return now.descriptors == idle.descriptors && now.threads == idle.threads
        }
        let problems = server.process.stderr.filter { !$0.contains("ECONNRESET") && !$0.contains("EPIPE") }
        #expect(problems.isEmpty, "only peer-gone errors are reported: \(problems.prefix(3))")
    }

    @Test("500 idle connections do not block a new client, and nothing leaks after they close",
          arguments: [Mode.threads, .select, .poll])
    func idleConnectionsDoNotBlock(mode: Mode) throws {
        let server = try RunningServer.start(mode, ["--backlog", "128"])
        defer { _ = try? server.stop() }
        let idle = try server.idleCounts()

        var sockets: [Socket] = []
        for _ in 0..<500 { sockets.append(try server.connect()) }
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--quiet", "through the crowd"],
                                    timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        try waitUntil("the server holds all 500 connections") {
            resourceCounts(pid: server.process.pid).descriptors >= idle.descriptors + 500
        }
        if mode == .threads {
            #expect(resourceCounts(pid: server.process.pid).threads >= idle.threads + 500)
        }

        for socket in sockets { try socket.close() }
        try waitUntil("every connection's descriptor and thread is gone", timeout: 120) {
            let now = resourceCounts(pid: server.process.pid)
            return now.descriptors == idle.descriptors && now.threads == idle.threads
        }
        #expect(try server.echoOnce() == "still alive")
    }

    @Test("poll: a client that sends but never reads does not stall the others")
    func pollSurvivesNonReader() throws {
        let server = try RunningServer.start(.poll)
        defer { _ = try? server.stop() }
        let hog = try server.connect()
        try hog.setBufferSizes(receive: 4096)
        try hog.setSendTimeout(seconds: 1)
        // Send until nothing moves for a second: our send buffer, the server's receive buffer and
        // its bounded output buffer for us are then all full.
        let block = [UInt8](repeating: 0x43, count: 64 * 1024)
        var total = 0
        try block.withUnsafeBytes { bytes in
            while total < 512 * 1024 * 1024 {
                do { total += try hog.send(bytes) } catch let error as SocketError where error.isWouldBlock { break }
            }
        }
        #expect(total > 256 * 1024, "the hog got past the server's output limit before the pipe filled")
        #expect(total < 512 * 1024 * 1024, "the server stopped reading from the hog")
        #expect(try server.echoOnce("not stalled") == "not stalled")
        try hog.close()
        #expect(try server.echoOnce() == "still alive")
    }

    @Test("iterative, threads and select: a client that sends but never reads is dropped after --send-timeout",
          arguments: [Mode.iterative, .threads, .select])
    func blockingModesDropNonReader(mode: Mode) throws {
        let server = try RunningServer.start(mode, ["--send-timeout", "1"])
        defer { _ = try? server.stop() }
        let idle = try server.idleCounts()
        // A small receive buffer set before connect(): the window offered in the handshake is
        // then small too, so the server's send() stops for good once it is full. Shrunk after
        // the handshake, the kernel still honours the larger window it has offered, and the
        // send() keeps making a little progress, each time starting SO_SNDTIMEO afresh.
        let hog = try Socket(family: AF_INET)
        defer { try? hog.close() }
        try hog.setBufferSizes(receive: 4096)
        try hog.connect(to: try #require(try SocketAddress.resolve(host: "127.0.0.1", port: server.port).first))
        try hog.setNonBlocking()
        // Fill the pipe: the server's echo to us blocks once our receive buffer is full.
        let block = [UInt8](repeating: 0x44, count: 64 * 1024)
        var total = 0
        try block.withUnsafeBytes { bytes in
            while total < 64 * 1024 * 1024 {
                do { total += try hog.send(bytes) } catch let error as SocketError where error.isWouldBlock { break }
            }
        }
        // Before the fix, the iterative server sat in send() to the hog forever and this hung.
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--quiet", "served"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        _ = try server.process.waitForLine(containing: "(--send-timeout)", onStderr: true, timeout: 120)
        try waitUntil("the hog's descriptor and thread are gone", timeout: 120) {
            let now = resourceCounts(pid: server.process.pid)
            return now.descriptors == idle.descriptors && now.threads == idle.threads
        }
    }
}
