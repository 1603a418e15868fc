import Foundation
import Glibc
import Testing
import TestSupport

/// Lesson 2's deadlock claim is checked by `scripts/deadlock-evidence`, which must tell a
/// deadlock from a transfer that merely met zero windows: the recording of the deadlock passes,
/// and a large echo that worked (with `win 0` on the way, as any slow reader has) does not.
@Suite(.live, .serialized) struct DeadlockEvidenceLiveTests {
    func evidence(_ capture: String) throws -> (status: Int32, lines: [String]) {
        let script = packageRoot.appendingPathComponent("scripts/deadlock-evidence").path
        let path = ToolProcess.binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try runCommand(script, [capture], environment: ["PATH": path], timeout: 120)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func theRecordedDeadlockIsOne() throws {
        let result = try evidence(packageRoot.appendingPathComponent("captures/deadlock.pcap").path)
        #expect(result.status == 0, "\(result.lines)")
        #expect(result.lines.contains("deadlock: both receivers full, no byte moves, only the persist timer's probes cross"))
    }

    @Test(.enabled(if: Privileges.canCapture, "live capture needs root or CAP_NET_RAW"))
    func aLargeEchoThatWorksIsNoDeadlock() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deadlock-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try ToolProcess("echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "listening")
        let capture = folder.appendingPathComponent("echo.pcap").path
        let watch = try ToolProcess("handshake-watch", ["--brief", "-w", capture, "port", "\(port)"])
        _ = try watch.waitForLine(containing: "listening on", onStderr: true)
        let payload = folder.appendingPathComponent("big.bin").path
        _ = FileManager.default.createFile(atPath: payload, contents: Data(count: 16 << 20))
        // Small reads and a small receive buffer on the client: the server meets zero windows.
        let client = try runCommand("echo-client", ["--port", "\(port)", "--file", payload, "--quiet", "--recv-size", "512"], timeout: 600)
        #expect(client.status == 0, "\(client.stderr)")
        watch.signal(SIGINT)
        _ = try watch.waitForExit()
        let result = try evidence(capture)
        #expect(result.status == 1, "\(result.lines)")
        #expect(result.lines.contains { $0.hasPrefix("no deadlock") }, "\(result.lines)")
    }
}
