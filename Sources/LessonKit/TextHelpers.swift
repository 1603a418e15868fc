@preconcurrency import Glibc

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
    // O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { throw LessonError.notFound("cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
        throw LessonError.notFound("cannot read \(path): not a regular file")
    }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { throw LessonError.notFound("cannot read \(path): \(String(cString: strerror(errno)))") }
        if count == 0 { break }
        guard bytes.count + count <= limit else {
            throw LessonError.notFound("cannot read \(path): larger than \(limit / 1024) KiB, too large for a lesson")
        }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}
