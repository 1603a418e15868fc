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
        do {
            let bytes = try Syscall.readFile(path, limit: maxBytes, regularOnly: true, traced: false)
            return parse(String(decoding: bytes, as: UTF8.self))
        } catch let error as SocketError {
            if error.errno?.rawValue == ENOENT { return nil }
            if error.codeName == "EFBIG" { throw ReadError(path: path, reason: "larger than \(maxBytes >> 20) MiB") }
            throw ReadError(path: path, reason: error.errno.map(\.description) ?? error.reason)
        } catch {
            throw ReadError(path: path, reason: "\(error)")
        }
    }

    /// Parses JSON Lines text; blank lines are skipped, bad ones listed in `rejected`.
    public static func parse(_ text: String) -> Contents {
        var contents = Contents()
        // Split on the byte 0x0A, not the Character "\n": Swift reads "\r\n" as one Character,
        // so a file with CRLF endings would otherwise be one long line.
        for (index, bytes) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let trimmed = Substring(bytes.last == 0x0D ? bytes.dropLast() : bytes)
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
        do {
            try Syscall.writeFileAtomically(path, Array(render(events).utf8))
        } catch let error as SocketError {
            throw ReadError(path: path, reason: error.errno.map(\.description) ?? error.reason)
        } catch {
            throw ReadError(path: path, reason: "\(error)")
        }
    }
}
