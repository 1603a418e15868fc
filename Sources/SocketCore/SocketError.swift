@preconcurrency import Glibc

/// A failed system call: which call, and why.
///
/// Prints as `connect() failed: ECONNREFUSED (Connection refused)`: the call as the man page names
/// it, then errno's symbolic name and text. getaddrinfo(3) reports through its own codes
/// (`EAI_NONAME`), which this type carries the same way.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    /// The C function that failed, without parentheses: `"connect"`.
    public let call: String
    /// The errno value, when the call reports through errno (every call here but getaddrinfo).
    public let errno: Errno?
    /// The symbolic name of the failure: `"ECONNREFUSED"`, `"EAI_NONAME"`.
    public let codeName: String
    /// The human text of the failure: `"Connection refused"`.
    public let reason: String

    /// An error from a call that sets errno.
    public init(call: String, errno: Errno) {
        self.call = call
        self.errno = errno
        self.codeName = errno.name
        self.reason = errno.message
    }

    /// An error from getaddrinfo(3), whose codes are not errno values (see gai_strerror(3)).
    public init(call: String, gaiCode: Int32) {
        self.call = call
        self.errno = gaiCode == EAI_SYSTEM ? Errno.current : nil
        self.codeName = SocketError.gaiNames[gaiCode] ?? "EAI_\(gaiCode)"
        self.reason = String(cString: gai_strerror(gaiCode))
    }

    /// An error found by our own checks before any call was made (a bad port number, say).
    public init(call: String, codeName: String, reason: String) {
        self.call = call
        self.errno = nil
        self.codeName = codeName
        self.reason = reason
    }

    public var description: String { "\(call)() failed: \(codeName) (\(reason))" }

    /// True for EAGAIN: a non-blocking socket has nothing to read or no room to write right now.
    public var isWouldBlock: Bool { errno == .wouldBlock }

    /// True when the peer is gone: ECONNRESET, EPIPE, ENOTCONN. A server logs these and moves on.
    public var isPeerGone: Bool {
        guard let errno else { return false }
        return [Errno.connectionReset, .brokenPipe, Errno(rawValue: ENOTCONN)].contains(errno)
    }

    private static let gaiNames: [Int32: String] = [
        EAI_BADFLAGS: "EAI_BADFLAGS", EAI_NONAME: "EAI_NONAME", EAI_AGAIN: "EAI_AGAIN",
        EAI_FAIL: "EAI_FAIL", EAI_FAMILY: "EAI_FAMILY", EAI_SOCKTYPE: "EAI_SOCKTYPE",
        EAI_SERVICE: "EAI_SERVICE", EAI_MEMORY: "EAI_MEMORY", EAI_SYSTEM: "EAI_SYSTEM",
        EAI_OVERFLOW: "EAI_OVERFLOW",
    ]
}
