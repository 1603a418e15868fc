import Foundation
import Glibc

/// A built executable of this package (echo-server, http-server, ...) running as a real process,
/// with its stdout and stderr collected line by line so a test can wait for a readiness line
/// instead of sleeping. Every wait is bounded.
public final class ToolProcess: @unchecked Sendable {
    public let name: String
    public let process = Process()
    private let lock = NSCondition()
    private var outLines: [String] = []
    private var errLines: [String] = []
    private var outDone = false
    private var errDone = false
    private let stdinPipe = Pipe()

    /// The folder holding the built products: the test bundle sits beside them.
    public static var binDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["SOCKETTUTOR_BIN"] {
            return URL(fileURLWithPath: override)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // Swift Testing may run from inside `X.xctest/...`; walk up to the folder with the products.
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("echo-server").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir
    }

    /// Absolute path of a built product.
    public static func path(of tool: String) -> String {
        binDirectory.appendingPathComponent(tool).path
    }

    /// Starts `tool` (a product name, or an absolute path) with `arguments`.
    /// `prefix` runs it under another command, e.g. `["setpriv", "--reuid=nobody", ...]`.
    public init(_ tool: String, _ arguments: [String], prefix: [String] = [],
                environment: [String: String]? = nil, currentDirectory: String? = nil) throws {
        name = tool
        let executable = tool.hasPrefix("/") ? tool : ToolProcess.path(of: tool)
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = prefix + [executable] + arguments
        }
        // Tests read handshake-watch's lines whole, as the lesson runner does (into a pipe a
        // person's watcher fits 80 columns): SOCKETTUTOR_LINES=whole, and no $COLUMNS from the
        // shell that runs the tests. A test that gives either gets it ("" unsets the first).
        var inherited = ProcessInfo.processInfo.environment
        inherited["COLUMNS"] = nil
        inherited["SOCKETTUTOR_LINES"] = "whole"
        process.environment = inherited.merging(environment ?? [:]) { $1 }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinPipe
        try process.run()
        collect(out.fileHandleForReading, isError: false)
        collect(err.fileHandleForReading, isError: true)
    }

    private func collect(_ handle: FileHandle, isError: Bool) {
        let thread = Thread { [self] in
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lock.lock()
                    if isError { errLines.append(line) } else { outLines.append(line) }
                    lock.broadcast()
                    lock.unlock()
                }
            }
            lock.lock()
            if !pending.isEmpty {
                let line = String(decoding: pending, as: UTF8.self)
                if isError { errLines.append(line) } else { outLines.append(line) }
            }
            if isError { errDone = true } else { outDone = true }
            lock.broadcast()
            lock.unlock()
        }
        thread.start()
    }

    /// Lines printed on stdout so far.
    public var stdout: [String] { lock.lock(); defer { lock.unlock() }; return outLines }
    /// Lines printed on stderr so far.
    public var stderr: [String] { lock.lock(); defer { lock.unlock() }; return errLines }

    /// Waits (at most `timeout` seconds) for a line on stdout (or stderr) that satisfies `matches`.
    public func waitForLine(onStderr: Bool = false, timeout: Double = 120,
                            _ matches: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout * Sanitizer.waitScale)
        lock.lock()
        defer { lock.unlock() }
        var checked = 0
        while true {
            let lines = onStderr ? errLines : outLines
            while checked < lines.count {
                if matches(lines[checked]) { return lines[checked] }
                checked += 1
            }
            let done = onStderr ? errDone : outDone
            if done { throw ToolProcessError.ended(name, stdout: outLines, stderr: errLines) }
            if !lock.wait(until: deadline) {
                throw ToolProcessError.timedOut(name, waitingFor: onStderr ? "stderr line" : "stdout line",
                                                stdout: outLines, stderr: errLines)
            }
        }
    }

    /// Waits for a line containing `text`.
    public func waitForLine(containing text: String, onStderr: Bool = false, timeout: Double = 120) throws -> String {
        try waitForLine(onStderr: onStderr, timeout: timeout) { $0.contains(text) }
    }

    /// Waits for the readiness line of a server and returns the port it printed last on that line
    /// (`server start, listening 127.0.0.1:43210`, `Serving HTTP on ... port 43210 ...`, or a URL:
    /// `serving the live view on http://127.0.0.1:43210/`).
    public func waitForPort(containing text: String, onStderr: Bool = false, timeout: Double = 120) throws -> Int {
        let line = try waitForLine(containing: text, onStderr: onStderr, timeout: timeout)
        if let range = line.range(of: #"port (\d+)"#, options: .regularExpression) {
            return Int(line[range].dropFirst(5))!
        }
        // `host:port`, `[v6]:port` or a URL's `host:port/`: the last `:digits` that ends a word.
        if let match = line.matches(of: /:(\d+)(?=\s|$|\)|\/)/).last, let port = Int(match.output.1) {
            return port
        }
        throw ToolProcessError.noPort(line)
    }

    /// Writes to the process's stdin.
    public func write(_ text: String) {
        stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Closes the process's stdin (end of file for it).
    public func closeStdin() {
        try? stdinPipe.fileHandleForWriting.close()
    }

    /// Sends a signal (SIGINT, SIGTERM, SIGKILL).
    public func signal(_ number: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, number) }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Waits (bounded) for the process to end and for its output to be read; returns the exit
    /// status (or 128 + signal). Kills it with SIGKILL if the time runs out, and throws.
    @discardableResult
    public func waitForExit(timeout: Double = 120) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout * Sanitizer.waitScale)
        while process.isRunning {
            if Date() > deadline {
                Glibc.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw ToolProcessError.timedOut(name, waitingFor: "exit", stdout: stdout, stderr: stderr)
            }
            usleep(2_000)   // polling a child's state; not synchronisation with it
        }
        lock.lock()
        while !(outDone && errDone) {
            if !lock.wait(until: deadline) { break }
        }
        lock.unlock()
        let status = process.terminationStatus
        return process.terminationReason == .uncaughtSignal ? 128 + status : status
    }

    /// Stops the process (SIGTERM, then SIGKILL after `grace` seconds) if it still runs.
    public func stop(grace: Double = 5) {
        guard process.isRunning else { return }
        signal(SIGTERM)
        if (try? waitForExit(timeout: grace)) == nil { signal(SIGKILL) }
    }

    deinit {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Why a `ToolProcess` wait failed; carries the output so the test failure shows it.
public enum ToolProcessError: Error, CustomStringConvertible {
    case timedOut(String, waitingFor: String, stdout: [String], stderr: [String])
    case ended(String, stdout: [String], stderr: [String])
    case noPort(String)

    public var description: String {
        switch self {
        case let .timedOut(name, what, out, err):
            return "\(name): timed out waiting for \(what)\nstdout:\n\(out.suffix(20).joined(separator: "\n"))\nstderr:\n\(err.suffix(20).joined(separator: "\n"))"
        case let .ended(name, out, err):
            return "\(name): ended before the line came\nstdout:\n\(out.suffix(20).joined(separator: "\n"))\nstderr:\n\(err.suffix(20).joined(separator: "\n"))"
        case let .noPort(line):
            return "no port in readiness line: \(line)"
        }
    }
}

/// Runs a command to completion (bounded) and returns its status and output.
public func runCommand(_ tool: String, _ arguments: [String], prefix: [String] = [], stdin: String? = nil,
                       environment: [String: String]? = nil, currentDirectory: String? = nil,
                       timeout: Double = 120) throws -> (status: Int32, stdout: [String], stderr: [String]) {
    let process = try ToolProcess(tool, arguments, prefix: prefix, environment: environment,
                                  currentDirectory: currentDirectory)
    if let stdin { process.write(stdin) }
    process.closeStdin()
    let status = try process.waitForExit(timeout: timeout)
    return (status, process.stdout, process.stderr)
}

/// Facts about the test's own privileges.
public enum Privileges {
    /// True when running as root (CI does).
    public static var isRoot: Bool { geteuid() == 0 }

    /// True when this process may open raw capture sockets (root, or CAP_NET_RAW in effect).
    public static var canCapture: Bool {
        if isRoot { return true }
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16) else { return false }
        return mask & (1 << 13) != 0   // CAP_NET_RAW is capability 13
    }

    /// A command prefix that runs a program as `nobody` with no capabilities (needs root).
    public static let asNobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                  "--inh-caps=-all", "--bounding-set=-all"]

    /// A built tool that nobody can read, to run with `asNobody`: the build itself when nobody
    /// can reach it, else a copy in a fresh world-readable folder of /tmp (`remove()` it after).
    ///
    /// A checkout under /root, or in a mode 0700 folder (`mktemp -d`), cannot be reached. setpriv
    /// would still start a binary there (its execve runs before the capabilities are gone), but
    /// the tool could then not read its own file, and a sanitizer's symbolizer must: without
    /// symbols no suppression matches, and every false positive becomes a failure.
    public static func toolForNobody(_ tool: String) throws -> ToolCopy {
        let built = ToolProcess.path(of: tool)
        let readable = try? runCommand("/usr/bin/env", ["test", "-r", built, "-a", "-x", built], prefix: asNobody)
        if readable?.status == 0 { return ToolCopy(path: built, folder: nil) }
        var template = Array("/tmp/sockettutor-nobody-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(.EIO)
        }
        let folder = String(cString: made)
        let copy = folder + "/" + tool
        try FileManager.default.copyItem(atPath: built, toPath: copy)
        chmod(copy, 0o755)
        chmod(folder, 0o755)
        return ToolCopy(path: copy, folder: folder)
    }
}

/// A tool's path for `Privileges.toolForNobody`, and the folder of its copy, if one was made.
public struct ToolCopy: Sendable {
    public let path: String
    let folder: String?

    public func remove() {
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}

/// The repository root (for `captures/`, `lessons/`, test fixtures).
public var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Counts a running process's open descriptors and threads, for leak checks.
///
/// Under a sanitizer the runtime opens descriptors of its own: it symbolizes every report it
/// checks against the suppressions through an llvm-symbolizer child, over two pipes. Those pipes
/// are not the tool's, so they are left out of the count there.
public func resourceCounts(pid: Int32) -> (descriptors: Int, threads: Int) {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    let fds = entries.isEmpty ? -1 : entries.filter { entry in
        guard Sanitizer.name != nil else { return true }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)")) ?? ""
        return !target.hasPrefix("pipe:")
    }.count
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"))?.count ?? -1
    return (fds, tasks)
}
