@preconcurrency import Glibc
import SocketCore

/// The `.events.jsonl` sidecar: what the programs did while a capture was recorded.
///
/// `captures/echo-ipv4.pcap` is replayed with `captures/echo-ipv4.events.jsonl` beside it, so a
/// replay shows the recorded `connect()` around the recorded SYN, all from one run.
/// One JSON object per line; a reader skips types it does not know.
public enum EventsFile {
    /// The largest sidecar read: far beyond any recording, well short of exhausting memory.
    public static let maxBytes = 64 << 20

    /// `X.pcap` (or `X.pcapng`, `X.cap`) → `X.events.jsonl`; any other name gets the suffix added.
    public static func sidecarPath(forCapture path: String) -> String {
        for suffix in [".pcapng", ".pcap", ".cap"] where path.hasSuffix(suffix) && path.count > suffix.count {
            return String(path.dropLast(suffix.count)) + ".events.jsonl"
        }
        return path + ".events.jsonl"
    }

    /// What a read found: the events, in file order, and the lines that were not events.
    public struct Contents: Sendable {
        public var events: [TimelineEvent] = []
        /// Line number (from 1) and why, for every line that did not parse.
        public var rejected: [(line: Int, reason: String)] = []
    }

    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads a sidecar. Nil when there is none; a file that cannot be read is an error.
    public static func read(path: String) throws(ReadError) -> Contents? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let error = Errno.current
            if error.rawValue == ENOENT { return nil }
            throw ReadError(path: path, reason: "\(error)")
        }
        defer { _ = Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ReadError(path: path, reason: "not a regular file")
        }
        guard info.st_size <= maxBytes else { throw ReadError(path: path, reason: "larger than \(maxBytes >> 20) MiB") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if count == 0 { break }
            if count < 0 {
                if Errno.current == .interrupted { continue }
                throw ReadError(path: path, reason: "\(Errno.current)")
            }
            filled += count
        }
        return parse(String(decoding: bytes[0..<filled], as: UTF8.self))
    }

    /// Parses JSON Lines text; blank lines are skipped, bad ones listed in `rejected`.
    public static func parse(_ text: String) -> Contents {
        var contents = Contents()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do {
                contents.events.append(try TimelineEvent(jsonLine: trimmed))
            } catch {
                contents.rejected.append((index + 1, error.description))
            }
        }
        return contents
    }

    /// The file's text: one line per event, sorted by time (stable), newline-terminated.
    public static func render(_ events: [TimelineEvent]) -> String {
        let sorted = events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
        return sorted.map { $0.element.jsonLine + "\n" }.joined()
    }

    /// Writes a sidecar (replacing it), through a temporary file renamed into place, so a reader
    /// never sees half a file.
    public static func write(_ events: [TimelineEvent], to path: String) throws(ReadError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReadError(path: temporary, reason: "\(Errno.current)") }
        let bytes = Array(render(events).utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if Errno.current == .interrupted { continue }
                let error = Errno.current
                _ = Glibc.close(fd)
                throw ReadError(path: temporary, reason: "\(error)")
            }
            written += count
        }
        guard Glibc.close(fd) == 0, rename(temporary, path) == 0 else {
            throw ReadError(path: path, reason: "\(Errno.current)")
        }
    }
}
