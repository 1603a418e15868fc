import SocketCore

/// Where the log lines go: stderr, as Python's `log_message` writes them.
///
/// Each line leaves in one write(2), so lines written by different threads at once never mix
/// (a write of a few hundred bytes to a pipe or terminal is not split). Not traced with
/// `--trace`: the log is the server's output, not one of the socket calls being taught.
enum AccessLog {
    /// Writes `line` (ending in `\n`) to fd 2, again after a partial write or EINTR. A stderr
    /// that is closed or full loses the line rather than stopping the server.
    static func write(_ line: [UInt8]) {
        _ = try? line.withUnsafeBytes { try Syscall.writeAll(2, $0, traced: false) }
    }
}
