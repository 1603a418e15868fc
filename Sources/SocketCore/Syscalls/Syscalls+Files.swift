@preconcurrency import Glibc

/// The plain file calls the tools need beside the socket ones: reading a file for
/// `echo-client --file`, and moving bytes between stdin/stdout and a socket in interactive mode.
/// Wrapped like the socket calls: EINTR retried, a `SocketError` naming the call, traced.
extension Syscall {
    /// open(2) read-only, with `O_CLOEXEC`. Returns the new descriptor.
    public static func openForReading(_ path: String) throws -> Int32 {
        try call("open", "\"\(path)\", O_RDONLY", result: { "fd \($0)" }) {
            Glibc.open(path, O_RDONLY | O_CLOEXEC)
        }
    }

    /// read(2): up to `buffer.count` bytes from any descriptor (a file, a pipe, a terminal).
    /// Returns 0 at end of file; on a terminal, one line at a time.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try call("read", "fd \(fd), \(buffer.count)", result: { $0 == 0 ? "0 (end of file)" : "\($0)" }) {
            Glibc.read(fd, buffer.baseAddress, buffer.count)
        }
    }

    /// write(2): returns how many bytes went, which may be fewer than given. Traced as strace
    /// shows it, the bytes quoted: `write(fd 1, "hello\n", 6) -> 6`.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try call("write", "fd \(fd), \(Trace.quoted(bytes)), \(bytes.count)") {
            Glibc.write(fd, bytes.baseAddress, bytes.count)
        }
    }

    /// Reads a whole file: open(2), read(2) until end of file, close(2). Past `limit` bytes it
    /// stops with EFBIG: `/dev/zero` or a never-ending pipe would otherwise fill the memory.
    public static func readFile(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
        let fd = try openForReading(path)
        defer { try? close(fd) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(fd, into: $0) }
            if count == 0 { return contents }
            guard count <= limit - contents.count else {
                throw SocketError(call: "read", codeName: "EFBIG", reason: "more than \(limit) bytes")
            }
            contents.append(contentsOf: chunk[..<count])
        }
    }

    /// Writes every byte to `fd`, looping over partial writes (stdout may be a pipe that is full).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            written += try write(fd, UnsafeRawBufferPointer(rebasing: bytes[written...]))
        }
    }
}

extension Syscall {
    /// Writes `text` to a new or existing file (open(2) with O_CREAT | O_TRUNC, mode 0644,
    /// write(2), close(2)): a small state file such as lab-link's record of its namespaces.
    public static func writeFile(_ path: String, _ text: String) throws {
        let fd = try call("open", "\"\(path)\", O_WRONLY | O_CREAT | O_TRUNC, 0644", result: { "fd \($0)" }) {
            Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        defer { try? close(fd) }
        try Array(text.utf8).withUnsafeBytes { try writeAll(fd, $0) }
    }

    /// unlink(2): removes a file's name.
    public static func unlink(_ path: String) throws {
        _ = try call("unlink", "\"\(path)\"") { Glibc.unlink(path) }
    }
}
