import Foundation
import Glibc
import Testing
import TestSupport

/// examples/python and examples/c, run as they are: each server answers each client, on a free
/// port, and the client exits 0 once every byte came back.
@Suite("Examples")
struct ExamplesTests {
    static let python = TraceLiveTests.python

    /// Builds examples/c into a scratch folder with the system's C compiler.
    static func buildC(into folder: ScratchFolder) throws -> (server: String, client: String) {
        let source = packageRoot.appendingPathComponent("examples/c").path
        var built: [String] = []
        for name in ["server", "client"] {
            let output = folder.url.appendingPathComponent("echo-\(name)-c").path
            let compile = try runCommand("/usr/bin/env", ["cc", "-Wall", "-Wextra", "-Werror", "-O2", "-o", output, "\(source)/\(name).c"])
            try #require(compile.status == 0, "cc \(name).c: \(compile.stderr)")
            built.append(output)
        }
        return (built[0], built[1])
    }

    @Test("the Python pair and the C pair echo, each client against each server", .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/cc"), "needs a C compiler (cc)"))
    func pairsEcho() throws {
        let folder = try ScratchFolder()
        let c = try Self.buildC(into: folder)
        let examples = TraceLiveTests.examples
        let servers: [(String, [String])] = [(Self.python, ["\(examples)/server.py", "0"]), (c.server, ["0"])]
        let clients: [(String, [String])] = [(Self.python, ["\(examples)/client.py"]), (c.client, [])]
        for (serverTool, serverArguments) in servers {
            let server = try ToolProcess(serverTool, serverArguments)
            defer { server.signal(SIGKILL); _ = try? server.waitForExit() }   // the examples loop forever, as the walkthrough's
            let port = try server.waitForPort(containing: "server start, listening")
            for (clientTool, clientArguments) in clients {
                let run = try runCommand(clientTool, clientArguments + ["\(port)", "Hello, sockets"])
                #expect(run.status == 0, "\(clientTool) against \(serverTool): \(run.stdout) \(run.stderr)")
                #expect(run.stdout.last == "closing connection to the server")
            }
            _ = try server.waitForLine(containing: "server Recv Over from")
        }
        // Nothing listens: both clients fail, print why, and still close (finally / goto done).
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let closedPort = Int(in_port_t(bigEndian: address.sin_port))
        close(listener)   // bound, never listening, now closed: connect() gets RST
        for (clientTool, clientArguments) in clients {
            let run = try runCommand(clientTool, clientArguments + ["\(closedPort)"])
            #expect(run.status == 1)
            #expect(run.stderr.contains { $0.contains("Connection refused") }, "\(run.stderr)")
            #expect(run.stdout.last == "closing connection to the server")
        }
    }
}
