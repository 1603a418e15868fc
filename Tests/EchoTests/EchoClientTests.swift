import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// echo-client's other jobs: chunked output, interactive (netcat) mode, --load.
@Suite("Echo client")
struct EchoClientTests {
    @Test("the echo comes back in --recv-size chunks, printed as the lesson shows")
    func chunkedOutput() throws {
        let server = try RunningServer.start(.threads)
        defer { _ = try? server.stop() }
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "Hello,", "world", "of", "sockets"], timeout: 120)
        #expect(result.status == 0)
        #expect(result.stdout.count >= 5, "connected, at least 3 chunks of at most 10 bytes, closing")
        #expect(result.stdout.first?.hasPrefix("client connected to 127.0.0.1:\(server.port) from 127.0.0.1:") == true)
        #expect(echoedText(result.stdout) == "Hello, world of sockets")
        #expect(result.stdout.last == "closing connection to the server")
        #expect(result.stdout.dropFirst().dropLast().allSatisfy { $0.count <= "client Received: b''".count + 10 })
    }

    @Test("no MESSAGE: stdin lines go to the server and the echo to stdout, in a pipe", arguments: [Mode.iterative, .poll])
    func interactiveInAPipe(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        for arguments in [[String](), ["-"]] {
            let result = try runCommand("echo-client", ["--port", "\(server.port)"] + arguments,
                                        stdin: "first line\nsecond line\n", timeout: 120)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == ["first line", "second line"])
        }
    }

    @Test("interactive: 8 MiB through a pipe to a server that talks before it reads does not deadlock")
    func interactiveLargePipeDoesNotDeadlock() throws {
        let listener = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
        defer { try? listener.close() }
        let port = try #require(listener.localAddress?.port)
        let greeting = [UInt8](repeating: 0x47, count: 4 << 20)
        let payload = try temporaryFile(bytes: 8 << 20)
        // The server sends 4 MiB before it reads anything (a banner, a file): a client blocked in
        // sendAll() never reads it, so neither side moves again. Then it echoes until our FIN.
        try Threads.detach {
            guard let (client, _) = try? listener.accept() else { return }
            defer { try? client.close() }
            try? client.setSendTimeout(seconds: 20)
            try? client.setReceiveTimeout(seconds: 20)
            guard (try? client.sendAll(greeting)) != nil else { return }
            while let chunk = try? client.recv(maxBytes: 65536), !chunk.isEmpty {
                guard (try? client.sendAll(chunk)) != nil else { return }
            }
        }
        let output = payload.path + ".out"
        let result = try runCommand("/bin/sh", ["-c", "exec \"$0\" --port \(port) --recv-size 1000 < \"$1\" > \"$2\"",
                                                ToolProcess.path(of: "echo-client"), payload.path, output], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(received.count == greeting.count + payload.bytes.count)
        #expect(received == greeting + payload.bytes)
    }

    @Test("--load against an iterative server whose backlog is full ends with ETIMEDOUT instead of hanging")
    func loadWithFullBacklog() throws {
        let server = try RunningServer.start(.iterative, ["--backlog", "1"])
        defer { _ = try? server.stop() }
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--connections", "8",
                                                    "--duration", "1"], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr.count == 1)
        #expect(result.stderr.first?.contains("connect() failed: ETIMEDOUT (Connection timed out)") == true,
                "\(result.stderr)")
        #expect(try server.echoOnce() == "still alive")
    }

    @Test("--load prints one summary line for each mode", arguments: Mode.allCases)
    func loadLine(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let connections = mode == .iterative ? "1" : "4"
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--connections", connections,
                                                    "--duration", "2", "--size", "64"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.last)
        #expect(line.wholeMatch(of: /round trips\/s: (\d+)  p50: \d+\.\d us  p99: \d+\.\d us  errors: 0  served: (\d+) of \d+ connections?/) != nil, "\(line)")
        #expect(line.hasSuffix("served: \(connections) of \(connections) connection" + (connections == "1" ? "" : "s")))
        #expect(result.stdout.filter { $0.wholeMatch(of: /connection \d: \d+ round trips  p50: \d+\.\d us  p99: \d+\.\d us/) != nil }.count
                == Int(connections)!, "\(result.stdout)")

        let stream = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--stream", "--connections", "1",
                                                    "--duration", "2", "--size", "65536"], timeout: 120)
        #expect(stream.status == 0, "\(stream.stderr)")
        #expect(stream.stdout.last?.wholeMatch(of: /MB\/s: \d+\.\d  errors: 0  served: 1 of 1 connection/) != nil, "\(stream.stdout)")
    }

    @Test("--blocking: a message that fits the buffers comes back in recv(10) chunks")
    func blockingClientEchoes() throws {
        let server = try RunningServer.start(.iterative)
        defer { _ = try? server.stop() }
        let result = try runCommand("echo-client", ["--blocking", "--port", "\(server.port)", "Hello, classic world"],
                                    timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == ["client connected to 127.0.0.1:\(server.port)", "client Received: b'Hello, cla'",
                                  "client Received: b'ssic world'", "closing connection to the server"])
    }

    @Test("--blocking: 64 MiB, more than every buffer on the path, deadlocks until --timeout ends it")
    func blockingClientDeadlocks() throws {
        let server = try RunningServer.start(.iterative, ["--send-timeout", "0"])
        defer { _ = try? server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blocking-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("64MiB.bin").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(ftruncate(fd, off_t(64 << 20)) == 0)
        close(fd)
        let result = try runCommand("echo-client", ["--blocking", "--port", "\(server.port)", "--timeout", "1",
                                                    "--quiet", "--file", path], timeout: 120)
        #expect(result.status == 1)
        #expect(result.stderr == ["echo-client: timed out: sendall() blocked for 1.0 s (--timeout): "
                                  + "nobody reads the echo, so the server stopped reading"], "\(result.stderr)")
    }

    @Test("--load against an iterative server: the connections waiting in its accept queue show as never served")
    func loadShowsUnservedConnections() throws {
        let server = try RunningServer.start(.iterative)
        defer { _ = try? server.stop() }
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--connections", "4",
                                                    "--duration", "2", "--size", "64"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.last?.hasSuffix("errors: 0  served: 1 of 4 connections") == true, "\(result.stdout)")
        #expect(result.stdout.filter { $0.hasSuffix(": never served (no echo in 2.0 s)") }.count == 3, "\(result.stdout)")
        #expect(result.stdout.first?.hasPrefix("connection 1: ") == true)
    }
}
