@preconcurrency import Glibc
import CLinux
import SocketCore

/// The file-system calls the file handler makes: open(2), fstat(2), pread(2), readdir(3),
/// readlink(2), realpath(3), close(2), each made through `Syscall` (untraced: the file calls of
/// every request would drown the socket calls `--trace` is there to show).
///
/// Paths are raw bytes (`[UInt8]`), never `String`: a Linux file name is any sequence of bytes
/// without `/` and NUL, and a name that is not valid UTF-8 must still be listed and served.
/// Failures throw the same `SocketError` as the socket calls (`open() failed: ENOENT (...)`).
public enum FileSystem {
    /// What fstat(2) says about an open file, reduced to what HTTP needs.
    public struct Status: Sendable, Equatable {
        public var isDirectory: Bool
        public var isRegularFile: Bool
        public var isSymbolicLink: Bool
        public var size: Int
        /// Last modification, whole seconds since 1970 (Last-Modified has one-second resolution).
        public var modified: Int
    }

    /// open(2) read-only. `O_NONBLOCK` keeps a named pipe (FIFO) from blocking the thread forever
    /// (it changes nothing for regular files); `O_CLOEXEC` keeps the file out of child processes.
    public static func open(_ path: [UInt8]) throws -> Int32 {
        try withCString(path) { cPath in
            try Syscall.open(cPath, flags: O_RDONLY | O_NONBLOCK)
        }
    }

    /// openat2(2) with `RESOLVE_BENEATH`: opens the relative `path` below the open folder `root`;
    /// the kernel refuses (EXDEV) if any step, symbolic links included, would leave `root`.
    /// One system call does both the open and the containment check.
    public static func open(_ path: [UInt8], beneath root: Int32) throws -> Int32 {
        try withCString(path) { cPath in
            try Syscall.call("openat2", "", traced: false) { sockettutor_open_beneath(root, cPath, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        }
    }

    /// open(2) of a folder, kept open as the anchor for `open(_:beneath:)`.
    public static func openDirectory(_ path: [UInt8]) throws -> Int32 {
        try withCString(path) { cPath in
            try Syscall.open(cPath, flags: O_RDONLY | O_DIRECTORY)
        }
    }

    /// openat(2): opens `name` inside the open folder `directory` (used for index.html).
    public static func open(_ name: String, in directory: Int32) throws -> Int32 {
        try Syscall.openat(directory, name, flags: O_RDONLY | O_NONBLOCK)
    }

    /// fstat(2) on an open descriptor: type, size and mtime of exactly the file we opened.
    public static func status(of fd: Int32) throws -> Status {
        Status(try Syscall.fileStatus(fd))
    }

    /// fstatat(2) on a name inside an open folder; `followLinks: false` is lstat(2).
    public static func status(of name: UnsafePointer<CChar>, in directory: Int32, followLinks: Bool) -> Status? {
        Syscall.fileStatus(name, in: directory, followLinks: followLinks).map(Status.init)
    }

    /// pread(2): reads up to `buffer.count` bytes from `offset` without moving the file position.
    public static func pread(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: Int) throws -> Int {
        try Syscall.pread(fd, into: buffer, offset: offset)
    }

    /// close(2). Not retried on EINTR (the descriptor is gone either way); a file's close cannot
    /// lose data we only read, so its result is ignored.
    public static func close(_ fd: Int32) {
        Syscall.closeQuietly(fd)
    }

    /// realpath(3): the absolute path with every symbolic link, `.` and `..` resolved.
    public static func realPath(_ path: [UInt8]) throws -> [UInt8] {
        try withCString(path) { try Syscall.realPath($0) }
    }

    /// The path of the file an open descriptor refers to, read with readlink(2) from
    /// `/proc/self/fd/N`. The kernel resolved every symbolic link when it opened the file, so this
    /// is where the bytes we are about to send really live, with no race against a link that
    /// changes after a check.
    public static func pathOfOpenFile(_ fd: Int32) -> [UInt8]? {
        Syscall.readLink("/proc/self/fd/\(fd)")
    }

    /// One entry of a folder, as readdir(3) gives it: the raw name bytes and its type.
    public struct Entry {
        public var name: [UInt8]
        public var isDirectory: Bool
        public var isSymbolicLink: Bool
    }

    /// The entries of an open folder (without `.` and `..`), read with fdopendir(3)/readdir(3).
    /// The type comes from readdir's `d_type` when the file system fills it in, else from
    /// fstatat(2). A symbolic link counts as a folder when it points at one (like os.path.isdir).
    /// Takes ownership of `fd` (closedir closes it).
    public static func entries(ofDirectory fd: Int32) throws -> [Entry] {
        var result: [Entry] = []
        try Syscall.forEachEntry(ofDirectory: fd) { entry in
            let name = Array(UnsafeRawBufferPointer(start: entry.name, count: strlen(entry.name)))
            var isLink = entry.type == UInt8(DT_LNK)
            var isDirectory = entry.type == UInt8(DT_DIR)
            if entry.type == UInt8(DT_UNKNOWN) {
                let info = status(of: entry.name, in: entry.folder, followLinks: false)
                isLink = info?.isSymbolicLink ?? false
                isDirectory = info?.isDirectory ?? false
            }
            if isLink {
                isDirectory = status(of: entry.name, in: entry.folder, followLinks: true)?.isDirectory ?? false
            }
            result.append(Entry(name: name, isDirectory: isDirectory, isSymbolicLink: isLink))
        }
        return result
    }

    // MARK: - Helpers

    private static func withCString<R>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> R) throws -> R {
        if path.contains(0) { throw SocketError(call: "open", errno: Errno(rawValue: EINVAL)) }
        var terminated = path
        terminated.append(0)
        return try terminated.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}

extension FileSystem.Status {
    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        isDirectory = type == S_IFDIR
        isRegularFile = type == S_IFREG
        isSymbolicLink = type == S_IFLNK
        size = Int(info.st_size)
        modified = Int(info.st_mtim.tv_sec)
    }
}
