@preconcurrency import Glibc

/// The plain file calls the tools need beside the socket ones: reading a file for
/// `echo-client --file`, a lesson or a recording, serving a folder, and moving bytes between
/// stdin/stdout and a socket in interactive mode.
/// Wrapped like the socket calls: EINTR retried, a `SocketError` naming the call, traced unless
/// `traced: false` (the file calls of every HTTP request would drown the socket calls).
extension Syscall {
    /// open(2) read-only, with `O_CLOEXEC`. Returns the new descriptor.
    public static func openForReading(_ path: String) throws -> Int32 {
        try open(path, flags: O_RDONLY)
    }

    /// open(2) with any flags (`O_CLOEXEC` is always added: no file leaks into a program we start).
    /// `mode` is the permission of a file that `O_CREAT` creates.
    public static func open(_ path: String, flags: Int32, mode: mode_t = 0o644, traced: Bool = true) throws -> Int32 {
        try call("open", "\"\(path)\", \(openFlagNames(flags))", traced: traced, result: { "fd \($0)" }) {
            Glibc.open(path, flags | O_CLOEXEC, mode)
        }
    }

    /// open(2) of a NUL-terminated path (a file name that is not UTF-8 stays as it is). Untraced.
    public static func open(_ path: UnsafePointer<CChar>, flags: Int32) throws -> Int32 {
        try call("open", "", traced: false) { Glibc.open(path, flags | O_CLOEXEC) }
    }

    /// openat(2): opens `name` inside the open folder `directory`. Untraced.
    public static func openat(_ directory: Int32, _ name: String, flags: Int32) throws -> Int32 {
        try call("openat", "", traced: false) { Glibc.openat(directory, name, flags | O_CLOEXEC) }
    }

    /// read(2): up to `buffer.count` bytes from any descriptor (a file, a pipe, a terminal).
    /// Returns 0 at end of file; on a terminal, one line at a time.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, traced: Bool = true) throws -> Int {
        try call("read", "fd \(fd), \(buffer.count)", traced: traced,
                 result: { $0 == 0 ? "0 (end of file)" : "\($0)" }) {
            Glibc.read(fd, buffer.baseAddress, buffer.count)
        }
    }

    /// read(2) on a non-blocking descriptor: nil when nothing is there yet (EAGAIN), the same
    /// optional shape as `recvIfReady`. Untraced (a pipe from a child process).
    public static func readIfReady(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if count >= 0 { return count }
        let error = Errno.current
        if error == .wouldBlock || error == .interrupted { return nil }
        throw SocketError(call: "read", errno: error)
    }

    /// pread(2): reads up to `buffer.count` bytes from `offset` without moving the file position.
    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws -> Int {
        try call("pread", "", traced: false) { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// write(2): returns how many bytes went, which may be fewer than given. Traced as strace
    /// shows it, the bytes quoted: `write(fd 1, "hello\n", 6) -> 6`.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, traced: Bool = true) throws -> Int {
        try call("write", "fd \(fd), \(Trace.quoted(bytes)), \(bytes.count)", traced: traced) {
            Glibc.write(fd, bytes.baseAddress, bytes.count)
        }
    }

    /// Writes every byte to `fd`, looping over partial writes (stdout may be a pipe that is full).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, traced: Bool = true) throws {
        var written = 0
        while written < bytes.count {
            written += try write(fd, UnsafeRawBufferPointer(rebasing: bytes[written...]), traced: traced)
        }
    }

    /// close(2) of a file we only read: untraced, and its result ignored (nothing can be lost).
    /// Never retried on EINTR, like `close(_:)`.
    public static func closeQuietly(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    // MARK: - Reading a whole file

    /// Reads a whole file: open(2), fstat(2), read(2) until end of file, close(2). Past `limit`
    /// bytes it stops with EFBIG: `/dev/zero` or a never-ending pipe would otherwise fill the
    /// memory. With `regularOnly`, a FIFO, a device or a folder is refused (EINVAL) before a byte
    /// is read: the open is O_NONBLOCK, so a FIFO without a writer cannot hang it. The one
    /// "read a file up to a limit" of the project: lessons, recordings, `--file`, /proc.
    public static func readFile(_ path: String, limit: Int = Int.max, regularOnly: Bool = false,
                                traced: Bool = true) throws -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY | (regularOnly ? O_NONBLOCK : 0), traced: traced)
        defer { closeQuietly(fd) }
        if regularOnly {
            guard try fileStatus(fd).st_mode & S_IFMT == S_IFREG else {
                throw SocketError(call: "open", codeName: "EINVAL", reason: "not a regular file")
            }
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(fd, into: $0, traced: traced) }
            if count == 0 { return contents }
            guard count <= limit - contents.count else {
                throw SocketError(call: "read", codeName: "EFBIG", reason: "more than \(limit) bytes")
            }
            contents.append(contentsOf: chunk[..<count])
        }
    }

    /// The first `count` bytes of a file (fewer if it is shorter): a file's header.
    public static func readHead(_ path: String, count: Int) throws -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY, traced: false)
        defer { closeQuietly(fd) }
        var head = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = try head.withUnsafeMutableBytes {
                try read(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]), traced: false)
            }
            if got == 0 { break }
            filled += got
        }
        return Array(head[..<filled])
    }

    /// Writes a whole file through a temporary one renamed into place (open, write, close,
    /// rename(2)), so a reader never sees half a file.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = path + ".tmp"
        let fd = try open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC, traced: false)
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, traced: false) }
        } catch {
            closeQuietly(fd)
            throw error
        }
        _ = try call("close", "", retry: false, traced: false) { Glibc.close(fd) }
        try rename(temporary, to: path)
    }

    /// rename(2): replaces `destination` in one step.
    public static func rename(_ source: String, to destination: String) throws {
        _ = try call("rename", "", traced: false) { Glibc.rename(source, destination) }
    }

    // MARK: - What a file is

    /// fstat(2) on an open descriptor: type, size and mtime of exactly the file we opened.
    public static func fileStatus(_ fd: Int32) throws -> stat {
        var info = stat()
        _ = try call("fstat", "", traced: false) { Glibc.fstat(fd, &info) }
        return info
    }

    /// stat(2) of a path (symbolic links followed).
    public static func fileStatus(path: String) throws -> stat {
        var info = stat()
        _ = try call("stat", "", traced: false) { Glibc.fstatat(AT_FDCWD, path, &info, 0) }
        return info
    }

    /// fstatat(2) on a name inside an open folder; `followLinks: false` is lstat(2). Nil when the
    /// name is gone.
    public static func fileStatus(_ name: UnsafePointer<CChar>, in directory: Int32, followLinks: Bool) -> stat? {
        var info = stat()
        let flags = followLinks ? 0 : AT_SYMLINK_NOFOLLOW
        guard Glibc.fstatat(directory, name, &info, flags) == 0 else { return nil }
        return info
    }

    /// access(2) with F_OK: whether `path` exists.
    public static func exists(_ path: String) -> Bool {
        Glibc.access(path, F_OK) == 0
    }

    /// realpath(3): the absolute path with every symbolic link, `.` and `..` resolved.
    public static func realPath(_ path: UnsafePointer<CChar>) throws -> [UInt8] {
        guard let resolved = Glibc.realpath(path, nil) else {
            throw SocketError(call: "realpath", errno: Errno.current)
        }
        defer { free(resolved) }
        return Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    /// readlink(2): where a symbolic link points (`/proc/self/exe`, `/proc/self/fd/N`).
    public static func readLink(_ path: String) -> [UInt8]? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(PATH_MAX) + 1) { buffer in
            let count = Glibc.readlink(path, buffer.baseAddress!, buffer.count)
            guard count > 0, count < buffer.count else { return nil }
            return Array(UnsafeRawBufferPointer(start: buffer.baseAddress!, count: count))
        }
    }

    /// readlink(2) as text: `socket:[12345]` for a socket's `/proc/PID/fd/N`, a path for a file.
    public static func readLinkText(_ path: String) -> String? {
        readLink(path).map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: - Folders

    /// One entry of a folder, as readdir(3) gives it: the raw name and `d_type`, and the
    /// descriptor of the open folder (for fstatat when `d_type` is DT_UNKNOWN).
    public typealias DirectoryEntry = (name: UnsafePointer<CChar>, type: UInt8, folder: Int32)

    /// fdopendir(3), readdir(3) until the end, closedir(3): calls `body` for every entry but
    /// `.` and `..`. Takes ownership of `fd` (closedir closes it).
    public static func forEachEntry(ofDirectory fd: Int32, _ body: (DirectoryEntry) -> Void) throws {
        guard let dir = Glibc.fdopendir(fd) else {
            let error = Errno.current
            Glibc.close(fd)
            throw SocketError(call: "fdopendir", errno: error)
        }
        defer { Glibc.closedir(dir) }
        let folder = Glibc.dirfd(dir)
        while let entry = Glibc.readdir(dir) {
            let type = entry.pointee.d_type
            withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                    if strcmp(name, ".") == 0 || strcmp(name, "..") == 0 { return }
                    body((name, type, folder))
                }
            }
        }
    }

    /// The names in a folder (without `.` and `..`), or nil when it cannot be opened.
    public static func directoryNames(_ path: String) -> [String]? {
        guard let fd = try? open(path, flags: O_RDONLY | O_DIRECTORY, traced: false) else { return nil }
        var names: [String] = []
        try? forEachEntry(ofDirectory: fd) { names.append(String(cString: $0.name)) }
        return names
    }

    static func openFlagNames(_ flags: Int32) -> String {
        var names = [flags & O_ACCMODE == O_WRONLY ? "O_WRONLY" : flags & O_ACCMODE == O_RDWR ? "O_RDWR" : "O_RDONLY"]
        if flags & O_CREAT != 0 { names.append("O_CREAT") }
        if flags & O_TRUNC != 0 { names.append("O_TRUNC") }
        if flags & O_APPEND != 0 { names.append("O_APPEND") }
        if flags & O_NONBLOCK != 0 { names.append("O_NONBLOCK") }
        if flags & O_DIRECTORY != 0 { names.append("O_DIRECTORY") }
        return names.joined(separator: "|")
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
