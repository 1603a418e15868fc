@preconcurrency import Glibc

/// A C `errno` value with the symbolic name a man page uses (`ECONNREFUSED`)
/// and the text `strerror(3)` gives ("Connection refused").
///
/// Errors print as `ECONNREFUSED (Connection refused)`, so a student can look
/// the name up in `man 2 connect` under ERRORS.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The raw C value, as found in `errno` right after the failing call.
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The value of the calling thread's `errno` now. Read it right after the failing call:
    /// any other C call may overwrite it.
    public static var current: Errno { Errno(rawValue: errno) }

    /// The symbolic name, as in `<errno.h>` (glibc's `strerrorname_np` is not visible to Swift).
    public var name: String { Errno.names[rawValue] ?? "E\(rawValue)" }

    /// The human text from `strerror(3)`.
    public var message: String { String(cString: strerror(rawValue)) }

    public var description: String { "\(name) (\(message))" }

    // The values a socket program meets. The C error is named in each constant.
    /// `EINTR`: a signal arrived while the call was blocked; the call is simply made again.
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EAGAIN` (== `EWOULDBLOCK` on Linux): a non-blocking socket has nothing to give or no room to take.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EINPROGRESS`: a non-blocking connect() has sent its SYN; poll() for writability.
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    /// `ECONNREFUSED`: the peer answered our SYN with RST: nothing listens on that port.
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    /// `ECONNRESET`: the peer sent RST on an established connection.
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    /// `EPIPE`: we wrote to a connection whose peer has gone; SIGPIPE is ignored, so we get this instead.
    public static let brokenPipe = Errno(rawValue: EPIPE)
    /// `ETIMEDOUT`: connect()'s SYNs went unanswered, or an established connection's data went
    /// unacknowledged, until the kernel gave up. (SO_RCVTIMEO and SO_SNDTIMEO expire with EAGAIN.)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `EADDRINUSE`: bind() to a port another socket already holds.
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    /// `EACCES`: bind() to a port below 1024 without CAP_NET_BIND_SERVICE.
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `EMFILE`: this process has no file descriptor left (see `ulimit -n`).
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)

    private static let names: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        ENXIO: "ENXIO", E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD",
        EAGAIN: "EAGAIN", ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY",
        EEXIST: "EEXIST", EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ELOOP: "ELOOP", ENOTSOCK: "ENOTSOCK",
        EDESTADDRREQ: "EDESTADDRREQ", EMSGSIZE: "EMSGSIZE", EPROTOTYPE: "EPROTOTYPE",
        ENOPROTOOPT: "ENOPROTOOPT", EPROTONOSUPPORT: "EPROTONOSUPPORT", EOPNOTSUPP: "EOPNOTSUPP",
        EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
        ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH", ENETRESET: "ENETRESET",
        ECONNABORTED: "ECONNABORTED", ECONNRESET: "ECONNRESET", ENOBUFS: "ENOBUFS",
        EISCONN: "EISCONN", ENOTCONN: "ENOTCONN", ESHUTDOWN: "ESHUTDOWN", ETIMEDOUT: "ETIMEDOUT",
        ECONNREFUSED: "ECONNREFUSED", EHOSTDOWN: "EHOSTDOWN", EHOSTUNREACH: "EHOSTUNREACH",
        EALREADY: "EALREADY", EINPROGRESS: "EINPROGRESS",
    ]
}
