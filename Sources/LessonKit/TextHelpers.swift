import SocketCore

extension String {
    /// Trims spaces and tabs (Foundation-free, so the parser reads on its own).
    func trimmed(_ set: String) -> String {
        let scalars = Set(set)
        var slice = Substring(self)
        while let first = slice.first, scalars.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, scalars.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }

    /// Drops blank lines at the start and the end.
    func trimmingBlankLines() -> String {
        var lines = split(separator: "\n", omittingEmptySubsequences: false)
        while let first = lines.first, first.allSatisfy({ $0 == " " || $0 == "\t" }) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }
}

/// Reads a lesson file: a regular file of at most `limit` bytes (1 MiB: the longest lesson is
/// about 20 KiB). `/dev/zero`, a FIFO or a folder is refused before a byte is read, and a file
/// that grows past the limit while being read stops the reading, instead of filling the memory.
func readLessonFile(_ path: String, limit: Int = 1 << 20) throws -> String {
    do {
        return String(decoding: try Syscall.readFile(path, limit: limit, regularOnly: true, traced: false), as: UTF8.self)
    } catch let error as SocketError where error.codeName == "EFBIG" {
        throw LessonError.notFound("cannot read \(path): larger than \(limit / 1024) KiB, too large for a lesson")
    } catch let error as SocketError {
        throw LessonError.notFound("cannot read \(path): \(error.errno.map(\.message) ?? error.reason)")
    }
}
