import SocketCore
import Synchronization

/// What the tracer knows about one process's descriptors: which are sockets, and the addresses
/// of each socket's two ends once known. Threads share their process's table (CLONE_FILES); a
/// fork copies it; an execve drops it (close-on-exec), and entries are found again on demand.
///
/// A descriptor the tracer has not seen made (inherited, or `--pid` attached late) is looked up
/// once in `/proc/PID/fd/N`: a socket reads `socket:[inode]`.
public struct DescriptorTable: Sendable {
    public struct Entry: Sendable, Equatable {
        public var isSocket: Bool
        /// `127.0.0.1:5000`-style ends, when known (bind, connect, accept, getsockname).
        public var local: Endpoint?
        public var remote: Endpoint?
        public var listening = false
        /// The addresses were asked of the kernel already (pidfd_getfd + getsockname).
        public var named = false
        /// `true` once `fcntl(F_SETFL, O_NONBLOCK)` was seen.
        public var nonBlocking = false

        public init(isSocket: Bool, local: Endpoint? = nil, remote: Endpoint? = nil) {
            self.isSocket = isSocket
            self.local = local
            self.remote = remote
        }
    }

    /// An address and port, as text (`127.0.0.1`, `::1`).
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var ip: String
        public var port: Int
        public init(ip: String, port: Int) { self.ip = ip; self.port = port }
        public var description: String { ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
    }

    /// The most entries kept per process: past it, entries that are not sockets are dropped
    /// first (they are found again in /proc when needed).
    static let limit = 65_536
    private(set) var entries: [Int32: Entry] = [:]

    public init() {}

    public subscript(fd: Int32) -> Entry? {
        get { entries[fd] }
        set {
            entries[fd] = newValue
            if entries.count > Self.limit { entries = entries.filter { $0.value.isSocket } }
        }
    }

    /// Whether `fd` of thread `tid` is a socket: the table, else `/proc/TID/fd/FD` (remembered).
    public mutating func isSocket(_ fd: Int32, tid: Int32) -> Bool {
        if let known = entries[fd] { return known.isSocket }
        guard fd >= 0, let target = Syscall.readLinkText("/proc/\(tid)/fd/\(fd)") else { return false }
        let socket = target.hasPrefix("socket:")
        self[fd] = Entry(isSocket: socket)
        return socket
    }

    /// What stdout and stderr of a traced program must be for its writes there to count as its
    /// output: the file they were when tracing began (COMMAND inherits the watcher's; a `$(...)`
    /// in a shell script writes to a pipe of its own, which is not output). Nil: any file counts
    /// (`--pid`: whatever the program's stdout is, a terminal or a log).
    public static let outputTargets: Mutex<[Int32: String]?> = Mutex(nil)

    /// Whether `fd` (1 or 2) of thread `tid` is the program's output, as `outputTargets` says.
    public mutating func isProgramOutput(_ fd: Int32, tid: Int32) -> Bool {
        if let known = outputs[fd] { return known }
        guard let wanted = Self.outputTargets.withLock({ $0 }) else { return true }
        let target = Syscall.readLinkText("/proc/\(tid)/fd/\(fd)")
        let answer = target != nil && target == wanted[fd]
        outputs[fd] = answer
        return answer
    }
    private var outputs: [Int32: Bool] = [:]

    /// Forgets everything (an execve: close-on-exec descriptors are gone, the rest looked up again).
    public mutating func reset() { entries = [:]; outputs = [:] }

    public mutating func remove(_ fd: Int32) { entries[fd] = nil; outputs[fd] = nil }

    /// Every socket in the table.
    public var sockets: [(Int32, Entry)] { entries.filter { $0.value.isSocket }.map { ($0.key, $0.value) } }
}
