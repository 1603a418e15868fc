import Foundation
@preconcurrency import Glibc
import SocketCore
import Testing
import TestSupport

/// The server modes, for parameterised tests.
enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case iterative, threads, select, poll
    var testDescription: String { rawValue }
}

/// A running echo-server and the port from its readiness line.
struct RunningServer {
    let process: ToolProcess
    let port: Int

    /// Starts `echo-server --port 0 --mode MODE ...` and waits for `server start, listening`.
    ///
    /// The backlog is 128 unless `extra` says otherwise: with the default 5, a test that connects
    /// in a tight loop outruns accept(), the kernel drops SYNs once the queue is full, and each
    /// dropped SYN costs the client a 1 s retransmission (lesson 4 shows exactly that).
    static func start(_ mode: Mode, _ extra: [String] = [], quiet: Bool = true) throws -> RunningServer {
        let backlog = extra.contains("--backlog") ? [] : ["--backlog", "128"]
        let process = try ToolProcess("echo-server", ["--port", "0", "--mode", mode.rawValue]
                                      + (quiet ? ["--quiet"] : []) + backlog + extra)
        let port = try process.waitForPort(containing: "server start, listening")
        return RunningServer(process: process, port: port)
    }

    /// A raw client (our own socket core) with a receive timeout, so no test waits forever.
    func connect(timeout: Double = 120) throws -> Socket {
        let socket = try Socket.connected(host: "127.0.0.1", port: port)
        try socket.setReceiveTimeout(seconds: timeout)
        try socket.setSendTimeout(seconds: timeout)
        return socket
    }

    /// One echo over a fresh connection: proves the server is alive and serving.
    func echoOnce(_ text: String = "still alive") throws -> String {
        let socket = try connect()
        defer { try? socket.close() }
        try socket.sendAll(Array(text.utf8))
        return String(decoding: try socket.receive(exactly: text.utf8.count), as: UTF8.self)
    }

    /// Descriptors and threads of the idle server: the descriptors it holds right after its start
    /// line (the listening socket is its last), and two threads (main, waiting for signals, and
    /// the server loop). Checked after one echo, so the loop is known to run.
    func idleCounts() throws -> (descriptors: Int, threads: Int) {
        let descriptors = resourceCounts(pid: process.pid).descriptors
        _ = try echoOnce()
        let threads = 2 + Sanitizer.extraThreads   // the main thread and the signal thread
        try waitUntil("the server is idle again") {
            resourceCounts(pid: process.pid) == (descriptors, threads)
        }
        return (descriptors, threads)
    }

    /// Stops the server with SIGTERM and returns its exit status.
    @discardableResult
    func stop() throws -> Int32 {
        process.signal(SIGTERM)
        return try process.waitForExit(timeout: 120)
    }
}

extension Socket {
    /// recv() until exactly `count` bytes have come (the receive timeout bounds each wait).
    func receive(exactly count: Int) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let chunk = try recv(maxBytes: min(65536, count - bytes.count))
            if chunk.isEmpty { throw HarnessError("peer closed after \(bytes.count) of \(count) bytes") }
            bytes += chunk
        }
        return bytes
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where each thread of `pid` sleeps in the kernel (/proc/PID/task/TID/wchan): `pipe_write`
/// for a write(2) to a full pipe, say.
func threadWaitChannels(pid: Int32) -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/wchan", encoding: .utf8) }
}

/// A file of `count` pseudo-random bytes in a fresh temporary directory.
func temporaryFile(bytes count: Int, seed: UInt64 = 42) throws -> (path: String, bytes: [UInt8]) {
    var generator = SplitMix(seed: seed &+ UInt64(count))
    let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("echo-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent("payload-\(count).bin")
    try Data(bytes).write(to: url)
    return (url.path, bytes)
}

/// A port that nothing listens on: bound by the kernel's choice, then released.
func closedPort() throws -> Int {
    let socket = try Socket.listening(host: "127.0.0.1", port: 0, backlog: 1)
    let port = socket.localAddress?.port ?? 0
    try socket.close()
    return port
}

/// A small deterministic generator for test payloads.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The text echo-client printed in its `client Received: b'...'` lines, chunks joined
/// (for short ASCII messages, where the literal is the text itself).
func echoedText(_ stdout: [String]) -> String {
    let prefix = "client Received: b'"
    return stdout.filter { $0.hasPrefix(prefix) }.map { $0.dropFirst(prefix.count).dropLast() }.joined()
}
