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
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "Hello,", "world", "of", "sockets"], timeout: 20)
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
                                        stdin: "first line\nsecond line\n", timeout: 20)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == ["first line", "second line"])
        }
    }

    @Test("--load prints one summary line for each mode", arguments: Mode.allCases)
    func loadLine(mode: Mode) throws {
        let server = try RunningServer.start(mode)
        defer { _ = try? server.stop() }
        let connections = mode == .iterative ? "1" : "4"
        let result = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--connections", connections,
                                                    "--duration", "0.5", "--size", "64"], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(result.stdout.last)
        #expect(line.wholeMatch(of: /round trips\/s: (\d+)  p50: \d+\.\d us  p99: \d+\.\d us  errors: 0/) != nil, "\(line)")
        if let match = line.firstMatch(of: /round trips\/s: (\d+)/) { #expect(Int(match.1)! > 100) }

        let stream = try runCommand("echo-client", ["--port", "\(server.port)", "--load", "--stream", "--connections", "1",
                                                    "--duration", "0.5", "--size", "65536"], timeout: 30)
        #expect(stream.status == 0, "\(stream.stderr)")
        #expect(stream.stdout.last?.wholeMatch(of: /MB\/s: \d+\.\d  errors: 0/) != nil, "\(stream.stdout)")
    }
}
